// Renders a kustomize overlay with kubectl and validates each object against the Kubernetes (and
// KEDA / prometheus-operator CRD) JSON schemas of kubernetes-models.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureTool, root, type Overlay } from './workspace.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Rendered manifests are data: tests read the parts they check.
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
}

let kubectl: string | undefined;

export async function renderOverlay(overlay: Overlay): Promise<K8sObject[]> {
  kubectl ??= ensureTool('kubectl');
  const { stdout } = await promisify(execFile)(kubectl, ['kustomize', join(root, 'deploy/k8s/overlays', overlay)], { maxBuffer: 32 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((document) => {
    const [error] = document.errors;
    if (error) throw new Error(`kustomize output of ${overlay} is not YAML: ${error.message}`);
    return document.toJS() as K8sObject;
  });
}

const modelModules: Record<string, string> = {
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

type Model = new (data: unknown) => { validate(): void };

/** Throws with the schema's message when the object is not valid for its apiVersion and kind. */
export async function validateObject(object: K8sObject): Promise<void> {
  const specifier = modelModules[object.apiVersion] ?? `kubernetes-models/${object.apiVersion}`;
  const module = (await import(specifier).catch(() => {
    throw new Error(`no schema for ${object.apiVersion} (${object.kind} ${object.metadata.name})`);
  })) as Record<string, Model | undefined>;
  const Model = module[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind} (${object.metadata.name})`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind} ${object.metadata.name}: ${(error as Error).message}`);
  }
}

export const byKind = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((object) => `${object.kind}/${object.metadata.name}`).join(', ')}`);
  return found;
}

/** Does a label selector (matchLabels only, as ours are) select these labels? An empty selector selects all. */
export function selects(selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined, labels: Record<string, string>): boolean {
  if (selector?.matchExpressions?.length) throw new Error('matchExpressions are not evaluated by these tests');
  return Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}
