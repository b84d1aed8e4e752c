// Compiled with `tsc --noEmit` (npm run typecheck): the declarations in index.d.ts must describe
// real usage without casts. Not executed.
import * as cip from '../index.js'
import type { AuditReport, CipError, Diagnostic, LintReport, Plan, PlanOptions, Snapshot, SnapshotFormat } from '../index.js'

const files: cip.Files = { 'manifests/a/promoter-manifest.yaml': 'registries: []\n' }
const report: LintReport = cip.lint(files)
const first: Diagnostic | undefined = report.diagnostics[0]
const where: string = first ? `${first.file}:${first.line}:${first.column} ${first.severity}` : ''
const text: string = cip.lintJson('images: []\n')
const later: Promise<LintReport> = cip.lintAsync(files)

const plan: Plan = cip.plan(files, { repositories: {} }, { strict: true, base: files })
const kinds: Array<'copy' | 'tag' | 'attach'> = plan.actions.map((a) => a.action)
const planned: Promise<Plan> = cip.planAsync(files, '{"repositories": {}}')
const snap: Snapshot = cip.snapshot({ repositories: {} }, 'gcr.io/prod', { minimal: true })
const format: SnapshotFormat = 'csv'
const yaml: string = cip.snapshotText({ repositories: {} }, 'gcr.io/prod', { output: format })
const planOptions: PlanOptions = { base: new Map([['a.yaml', '']]) }
const drift = (json: string): number => (JSON.parse(json) as AuditReport).summary.drift

const mapped: LintReport = cip.lintJson(new Map([['a.yaml', 'images: []\n']])) ? report : report

async function release(): Promise<number> {
  const controller = new AbortController()
  const inventory: cip.Inventory = await cip.readInventory({ registries: ['127.0.0.1:5000/prod'] })
  const online: Plan = await cip.planOnline(files, {
    dest: ['127.0.0.1:5000/prod'],
    insecureRegistry: ['registry.internal:5000'],
    registryRate: 20,
    hostRate: { 'gcr.io': 5 },
    maxConcurrency: 8,
    requestTimeout: 60,
    chunkSize: 64,
    authEnv: { 'registry.internal:5000': 'REGISTRY_AUTH' },
  })
  // The names of earlier releases are still accepted (marked @deprecated).
  const old: Plan = await cip.planOnline(files, { insecureRegistries: [], rate: 10, hostRates: {} })
  const result: cip.PromoteResult = await cip.promote(files, {
    confirm: true,
    jobs: 4,
    blobJobs: 8,
    signal: controller.signal,
    onProgress(e: cip.ProgressEvent) {
      if (e.type === 'progress') controller.abort(`${e.imagesDone}/${e.imagesTotal}`)
      else if (e.type === 'phase') void e.phase.toUpperCase()
    },
  })
  const failed: number = result.report?.summary.failed ?? 0
  const legacy: cip.PromoteResult = await cip.promote(files, { concurrency: 4, blobConcurrency: 8 })
  return failed + online.actions.length + old.actions.length + legacy.plan.actions.length +
    Object.keys(inventory.repositories).length
}

// @ts-expect-error options are named after the CLI's flags (`--jobs`)
void cip.promote(files, { job: 4 })
// @ts-expect-error not a snapshot format
cip.snapshotText({ repositories: {} }, 'gcr.io/prod', { output: 'xml' })

function describe(e: unknown): string {
  const err = e as CipError
  return `${err.code} ${err.registry ?? ''} ${err.message}`
}

export { where, text, later, kinds, planned, snap, yaml, describe, mapped, release, planOptions, drift }
