// The runtime stage of a Dockerfile as Docker would run it: ENTRYPOINT + CMD (exec form), ENV with
// build arguments substituted, HEALTHCHECK, USER, STOPSIGNAL. Parsed with dockerfile-ast.
// dockerfile-ast is the parser under dockerfile-utils (installed with it, not yet a direct dependency).
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface RuntimeStage {
  /** Base images of every stage that pulls one (FROM of another stage excluded). */
  readonly baseImages: readonly { image: string; tag: string | null; digest: string | null; line: number }[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** ENTRYPOINT followed by CMD: the process Docker starts. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  readonly stopSignal: string | undefined;
  readonly workdir: string | undefined;
  readonly healthcheck: readonly string[] | undefined;
  /** Instructions of the runtime stage whose arguments are not a JSON array though they should be. */
  readonly shellForm: readonly string[];
}

const jsonArray = (instruction: Instruction): string[] | undefined => {
  const text = instruction.getArgumentsContent()?.trim() ?? '';
  if (!text.startsWith('[')) return undefined;
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) && parsed.every((part) => typeof part === 'string') ? parsed : undefined;
};

const substitute = (value: string, vars: Record<string, string>) =>
  value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole: string, braced: string | undefined, bare: string | undefined) => vars[braced ?? bare ?? ''] ?? whole);

export function runtimeStage(content: string, buildArgs: Record<string, string> = {}): RuntimeStage {
  const dockerfile = DockerfileParser.parse(content);
  const instructions = dockerfile.getInstructions();
  const stageNames = new Set<string>();
  const baseImages: { image: string; tag: string | null; digest: string | null; line: number }[] = [];
  let lastFrom = -1;
  const froms = dockerfile.getFROMs();
  instructions.forEach((instruction, index) => {
    const from = instruction.getKeyword() === 'FROM' ? froms.find((candidate) => candidate.getRange().start.line === instruction.getRange().start.line) : undefined;
    if (!from) return;
    lastFrom = index;
    const name = from.getImageName() ?? '';
    if (!stageNames.has(name)) baseImages.push({ image: from.getImage() ?? '', tag: from.getImageTag(), digest: from.getImageDigest(), line: instruction.getRange().start.line + 1 });
    const stage = from.getBuildStage();
    if (stage) stageNames.add(stage);
  });
  if (lastFrom < 0) throw new Error('the Dockerfile has no FROM');
  const stage = instructions.slice(lastFrom + 1);

  const vars: Record<string, string> = {};
  const env: Record<string, string> = {};
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let user: string | undefined;
  let stopSignal: string | undefined;
  let workdir: string | undefined;
  let healthcheck: string[] | undefined;
  const shellForm: string[] = [];
  for (const instruction of stage) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArgumentsContent()?.trim() ?? '';
    switch (keyword) {
      case 'ARG': {
        const [name, defaultValue] = args.split('=', 2) as [string, string | undefined];
        vars[name] = buildArgs[name] ?? defaultValue ?? '';
        break;
      }
      case 'ENV':
        for (const property of (instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
          env[property.getName()] = substitute(property.getValue() ?? '', { ...vars, ...env });
        }
        break;
      case 'ENTRYPOINT':
      case 'CMD': {
        const parts = jsonArray(instruction);
        if (!parts) shellForm.push(keyword);
        if (keyword === 'ENTRYPOINT') entrypoint = parts ?? [];
        else cmd = parts ?? [];
        break;
      }
      case 'USER':
        user = substitute(args, vars);
        break;
      case 'STOPSIGNAL':
        stopSignal = args;
        break;
      case 'WORKDIR':
        workdir = args;
        break;
      case 'HEALTHCHECK': {
        const at = args.indexOf('CMD');
        const test = at >= 0 ? args.slice(at + 3).trim() : '';
        healthcheck = test.startsWith('[') ? (JSON.parse(test) as string[]) : test ? ['/bin/sh', '-c', test] : undefined;
        if (test && !test.startsWith('[')) shellForm.push('HEALTHCHECK');
        break;
      }
      default:
    }
  }
  return { baseImages, entrypoint, cmd, command: [...entrypoint, ...cmd], env, user, stopSignal, workdir, healthcheck, shellForm };
}
