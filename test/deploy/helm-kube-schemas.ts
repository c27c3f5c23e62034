import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './compose-file.js';
import type { Manifest } from './helm.js';

/** The Kubernetes version scripts/ensure-kube-schemas.sh pins the schemas of. */
export const KUBERNETES_SCHEMA_VERSION = '1.36';

/** scripts/ensure-kube-schemas.sh installs the schemas on first use and prints their folder. */
export function ensureKubeSchemas(): string {
  return execFileSync('bash', [path.join(ROOT, 'scripts/ensure-kube-schemas.sh')], {
    encoding: 'utf8',
    timeout: 300_000,
  }).trim();
}

interface KubernetesModel {
  validate(): void;
}
type ModelClass = new (data: unknown) => KubernetesModel;
/** ajv's error, as kubernetes-models throws it. */
interface SchemaError {
  instancePath: string;
  message?: string;
  params: { allowedValues?: unknown[] };
}
interface Attribute {
  baseName: string;
  type: string;
}

// Types of @kubernetes/client-node's field lists that are not models of their own.
const SCALARS = new Set(['string', 'number', 'boolean', 'any', 'Date', 'IntOrString', 'V1MicroTime']);

/**
 * Validates manifests against the Kubernetes 1.36 API: the OpenAPI schema of the kind
 * (kubernetes-models: types, required fields, enums, formats), and strictly, field by
 * field, against the API's field lists (@kubernetes/client-node's models), since the
 * OpenAPI schema itself lets an unknown field, such as a misindented key, through. Every
 * problem is reported with the JSON path of the field, as kubeconform -strict would.
 */
export class KubeSchemas {
  private readonly fields = new Map<string, Map<string, string>>();

  constructor(private readonly dir: string) {}

  async validate(manifest: Manifest & { apiVersion?: string }): Promise<string[]> {
    const { apiVersion, kind } = manifest;
    const where = `${apiVersion}/${kind} ${manifest.metadata?.name}`;
    if (!apiVersion || !kind) return [`${where}: no apiVersion or kind`];
    const Model = await this.model(apiVersion, kind);
    if (!Model) return [`${where}: no schema for ${apiVersion} ${kind} in Kubernetes ${KUBERNETES_SCHEMA_VERSION}`];
    const problems: string[] = [];
    try {
      new Model(manifest).validate();
    } catch (err) {
      const errors = (err as { errors?: SchemaError[] }).errors;
      if (!errors) throw err;
      for (const e of errors)
        problems.push(
          `${e.instancePath || '/'}: ${e.message}${e.params.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : ''}`,
        );
    }
    // apps/v1 Deployment is V1Deployment; core v1 Service is V1Service.
    const version = apiVersion.split('/').pop()!;
    const type = `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
    await this.unknownFields(manifest, type, '', problems);
    return problems.map((p) => `${where}: ${p}`);
  }

  private async model(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
    const file = path.join(this.dir, 'node_modules/kubernetes-models', apiVersion, `${kind}.js`);
    if (!existsSync(file)) return undefined;
    const module = (await import(pathToFileURL(file).href)) as Record<string, ModelClass>;
    return module[kind];
  }

  private async fieldsOf(type: string): Promise<Map<string, string>> {
    let known = this.fields.get(type);
    if (!known) {
      const file = path.join(this.dir, 'client-node', `${type}.js`);
      if (!existsSync(file)) throw new Error(`no field list for ${type} in Kubernetes ${KUBERNETES_SCHEMA_VERSION}`);
      const module = (await import(pathToFileURL(file).href)) as Record<string, { attributeTypeMap: Attribute[] }>;
      known = new Map(module[type]!.attributeTypeMap.map((a) => [a.baseName, a.type]));
      this.fields.set(type, known);
    }
    return known;
  }

  private async unknownFields(value: unknown, type: string, at: string, problems: string[]): Promise<void> {
    if (value === null || value === undefined || SCALARS.has(type)) return;
    const list = /^Array<(.+)>$/.exec(type);
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    // Wrong shapes are the OpenAPI check's to report; here only names are checked.
    if (list) {
      if (Array.isArray(value))
        for (const [i, item] of value.entries()) await this.unknownFields(item, list[1]!, `${at}/${i}`, problems);
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (map) for (const [k, v] of entries) await this.unknownFields(v, map[1]!, `${at}/${k}`, problems);
      else {
        const known = await this.fieldsOf(type);
        for (const [k, v] of entries) {
          const fieldType = known.get(k);
          if (fieldType === undefined) problems.push(`${at}/${k}: unknown field (${type} has no ${k})`);
          else await this.unknownFields(v, fieldType, `${at}/${k}`, problems);
        }
      }
    }
  }
}
