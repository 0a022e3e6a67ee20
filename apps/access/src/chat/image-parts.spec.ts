import { imageOf, imageProblem, inlineImageChars } from './image-parts.ts';

const limits = { maxImages: 2, maxImageBytes: 8 };
const dataUri = (bytes: number, type = 'image/png') => `data:${type};base64,${Buffer.alloc(bytes, 7).toString('base64')}`;
const ask = (...parts: unknown[]) => ({ model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'What is this?' }, ...parts] }] });
const image = (url: string) => ({ type: 'image_url', image_url: { url } });

describe('image parts of a chat request', () => {
  it('takes https URLs and base64 data URIs of image types up to the size limit', () => {
    expect(imageProblem(ask(image('https://example.com/cat.png'), image(dataUri(8))), limits)).toBeUndefined();
    expect(imageOf(dataUri(8, 'image/webp'), limits)).toEqual({ inline: { mediaType: 'image/webp', bytes: Buffer.alloc(8, 7) } });
    expect(imageOf('https://example.com/cat.png', limits)).toEqual({ url: 'https://example.com/cat.png' });
  });

  it('refuses each problem with the status and code a client can act on, naming the part', () => {
    const problem = (...parts: unknown[]) => {
      const found = imageProblem(ask(...parts), limits);
      return found && `${found.status} ${found.code} ${found.param}`;
    };
    expect(problem(image(dataUri(9)))).toBe('413 image_too_large messages[1].content[1]');
    expect(problem(image('http://example.com/cat.png'))).toBe('400 invalid_image_url messages[1].content[1]');
    expect(problem(image('file:///etc/passwd'))).toBe('400 invalid_image_url messages[1].content[1]');
    expect(problem({ type: 'image_url', image_url: {} })).toBe('400 invalid_image_url messages[1].content[1]');
    expect(problem(image(`https://example.com/${'a'.repeat(9_000)}`))).toBe('400 invalid_image_url messages[1].content[1]');
    expect(problem(image('data:image/png;base64,not base64!'))).toBe('400 invalid_image messages[1].content[1]');
    expect(problem(image('data:image/png,rawbytes'))).toBe('400 invalid_image messages[1].content[1]');
    expect(problem(image(dataUri(4, 'image/svg+xml')))).toBe('400 invalid_image messages[1].content[1]');
    expect(problem(image(dataUri(1)), image(dataUri(1)), image(dataUri(1)))).toBe('400 too_many_images messages[1].content[3]');
    const inSystem = imageProblem({ messages: [{ role: 'system', content: [image(dataUri(1))] }] }, limits);
    expect(inSystem).toMatchObject({ status: 400, param: 'messages[0].content[0]' });
  });

  it('counts the characters of inline images, which a claim check takes off the broker message', () => {
    expect(inlineImageChars(ask(image('https://example.com/cat.png'), image(dataUri(6))))).toBe(dataUri(6).length);
  });

  it('has the defaults of the configuration (8 images of 10 MiB) in mind: a 10 MiB image passes, one byte more does not', () => {
    const defaults = { maxImages: 8, maxImageBytes: 10 * 1_048_576 };
    expect(imageProblem(ask(image(dataUri(defaults.maxImageBytes))), defaults)).toBeUndefined();
    expect(imageProblem(ask(image(dataUri(defaults.maxImageBytes + 1))), defaults)).toMatchObject({ status: 413, code: 'image_too_large' });
  });
});
