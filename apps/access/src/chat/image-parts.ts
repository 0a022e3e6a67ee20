/**
 * The image parts of a chat request (`{type: "image_url", image_url: {url, detail?}}`), checked on
 * the raw body before the schema so each refusal names the part (`messages[i].content[j]`) in
 * OpenAI's path form: `https` URLs and base64 `data:` URIs of the image types providers read, at
 * most `maxImages` per request and `maxImageBytes` each once decoded (measured without decoding).
 */
export interface ImageLimits {
  maxImages: number;
  maxImageBytes: number;
}

export interface ImageProblem {
  status: 400 | 413;
  code: 'invalid_image_url' | 'invalid_image' | 'too_many_images' | 'image_too_large' | 'invalid_value';
  param: string;
  message: string;
}

/** What OpenAI's vision models (and most OpenAI-compatible ones) accept. */
export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

/** Longest image URL carried as it is (it travels on the broker). */
export const MAX_IMAGE_URL_LENGTH = 8_192;

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** An inline image, decoded. */
export interface InlineImage {
  mediaType: ImageMediaType;
  bytes: Buffer;
}

/** Bytes a base64 text decodes to, without decoding it. */
function decodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

type UrlVerdict = { problem: Omit<ImageProblem, 'param'> } | { inline: { mediaType: ImageMediaType; base64: string } } | { url: string };

function judgeUrl(url: unknown, limits: ImageLimits): UrlVerdict {
  if (typeof url !== 'string' || url.length === 0) return { problem: { status: 400, code: 'invalid_image_url', message: 'An image part needs image_url.url: an https URL or a base64 data: URI.' } };
  if (url.startsWith('data:')) {
    const header = DATA_URI.exec(url.slice(0, 200));
    const mediaType = header?.[1]?.toLowerCase();
    if (!header || !IMAGE_MEDIA_TYPES.includes(mediaType as ImageMediaType)) {
      return { problem: { status: 400, code: 'invalid_image', message: `An inline image must be a base64 data URI of type ${IMAGE_MEDIA_TYPES.join(', ')} (data:image/png;base64,...).` } };
    }
    const base64 = url.slice(header[0].length);
    if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64.test(base64)) return { problem: { status: 400, code: 'invalid_image', message: 'The data URI of this image is not valid base64.' } };
    const bytes = decodedLength(base64);
    if (bytes > limits.maxImageBytes) return { problem: { status: 413, code: 'image_too_large', message: `This image is ${bytes} bytes; at most ${limits.maxImageBytes} bytes per image.` } };
    return { inline: { mediaType: mediaType as ImageMediaType, base64 } };
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // Plain http would let the provider (and anyone on the way) fetch what the client did not protect.
  if (parsed?.protocol !== 'https:') return { problem: { status: 400, code: 'invalid_image_url', message: 'An image URL must be an https URL (or send the image inline as a base64 data: URI).' } };
  if (url.length > MAX_IMAGE_URL_LENGTH) return { problem: { status: 400, code: 'invalid_image_url', message: `An image URL may be at most ${MAX_IMAGE_URL_LENGTH} characters.` } };
  return { url };
}

const isImagePart = (part: unknown): part is { image_url?: { url?: unknown } } => typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'image_url';

/** The first image part of `body` the platform refuses, if any (other part types are unhonoured-fields.ts's). */
export function imageProblem(body: Record<string, unknown>, limits: ImageLimits): ImageProblem | undefined {
  const messages = Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : [];
  let count = 0;
  for (const [index, message] of messages.entries()) {
    const content = typeof message === 'object' && message !== null ? (message as { role?: unknown; content?: unknown }) : undefined;
    if (!content || !Array.isArray(content.content)) continue;
    for (const [position, part] of content.content.entries()) {
      if (!isImagePart(part)) continue;
      const param = `messages[${index}].content[${position}]`;
      if (content.role !== 'user') return { status: 400, code: 'invalid_value', param, message: `Images are read in user messages only, not in '${String(content.role)}' messages.` };
      if (++count > limits.maxImages) return { status: 400, code: 'too_many_images', param, message: `At most ${limits.maxImages} images per request.` };
      const verdict = judgeUrl(part.image_url?.url, limits);
      if ('problem' in verdict) return { ...verdict.problem, param };
    }
  }
  return undefined;
}

/** The image an `image_url` part carries: inline bytes, or a URL (call after imageProblem found nothing). */
export function imageOf(url: string, limits: ImageLimits): { inline: InlineImage } | { url: string } {
  const verdict = judgeUrl(url, limits);
  if ('problem' in verdict) throw new Error(verdict.problem.message);
  if ('url' in verdict) return verdict;
  return { inline: { mediaType: verdict.inline.mediaType, bytes: Buffer.from(verdict.inline.base64, 'base64') } };
}

/** Characters of `body`'s inline images: what a claim check takes off the broker message. */
export function inlineImageChars(body: Record<string, unknown>): number {
  let total = 0;
  for (const message of Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : []) {
    const content = typeof message === 'object' && message !== null ? (message as { content?: unknown }).content : undefined;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      const url = isImagePart(part) ? part.image_url?.url : undefined;
      if (typeof url === 'string' && url.startsWith('data:')) total += url.length;
    }
  }
  return total;
}
