// Compiled with `tsc --noEmit` (npm run typecheck): the declarations in index.d.ts must describe
// real usage without casts. Not executed.
import * as cip from '../index.js'
import type { CipError, Diagnostic, LintReport, Plan, Snapshot } from '../index.js'

const files: cip.Files = { 'manifests/a/promoter-manifest.yaml': 'registries: []\n' }
const report: LintReport = cip.lint(files)
const first: Diagnostic | undefined = report.diagnostics[0]
const where: string = first ? `${first.file}:${first.line}:${first.column} ${first.severity}` : ''
const text: string = cip.lintJson('images: []\n')
const later: Promise<LintReport> = cip.lintAsync(files)

const plan: Plan = cip.plan(files, { repositories: {} }, { strict: true, base: files })
const kinds: Array<'copy' | 'tag'> = plan.actions.map((a) => a.action)
const planned: Promise<Plan> = cip.planAsync(files, '{"repositories": {}}')
const snap: Snapshot = cip.snapshot({ repositories: {} }, 'gcr.io/prod', { minimal: true })
const yaml: string = cip.snapshotText({ repositories: {} }, 'gcr.io/prod', { output: 'csv' })

const mapped: LintReport = cip.lintJson(new Map([['a.yaml', 'images: []\n']])) ? report : report

async function release(): Promise<number> {
  const controller = new AbortController()
  const inventory: cip.Inventory = await cip.readInventory({ registries: ['127.0.0.1:5000/prod'] })
  const online: Plan = await cip.planOnline(files, { dest: ['127.0.0.1:5000/prod'], insecureRegistries: [] })
  const result: cip.PromoteResult = await cip.promote(files, {
    confirm: true,
    concurrency: 4,
    signal: controller.signal,
    onProgress(e: cip.ProgressEvent) {
      if (e.type === 'progress') controller.abort(`${e.imagesDone}/${e.imagesTotal}`)
      else if (e.type === 'phase') void e.phase.toUpperCase()
    },
  })
  const failed: number = result.report?.summary.failed ?? 0
  return failed + online.actions.length + Object.keys(inventory.repositories).length
}

function describe(e: unknown): string {
  const err = e as CipError
  return `${err.code} ${err.registry ?? ''} ${err.message}`
}

export { where, text, later, kinds, planned, snap, yaml, describe, mapped, release }
