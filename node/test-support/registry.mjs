// Test support for the engine tests: the real CNCF distribution registry (Debian package
// `docker-registry`) started on 127.0.0.1 in a temporary directory, a minimal OCI push client
// (fetch), and a delaying proxy for abort tests. Everything listens on loopback, is bounded by
// timeouts and stops with the test.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export const REGISTRY_BINARY = '/usr/bin/docker-registry'
export const USER = 'cip'
export const PASSWORD = 's3cret-pass'
// bcrypt of PASSWORD (cost 5): distribution's htpasswd accepts only bcrypt.
const HTPASSWD = `${USER}:$2b$05$b8ARoyR/VsUw8zdOeHISQemSiOywJsEgh1nE.N5JJeW9PT34mxMy2\n`

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Starts a registry; with `auth`, it requires USER/PASSWORD (htpasswd, basic auth). */
export async function startRegistry({ auth = false } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cip-node-registry-'))
  const port = await freePort()
  const authBlock = auth
    ? `auth:\n  htpasswd:\n    realm: cip-test\n    path: ${dir}/htpasswd\n`
    : ''
  if (auth) writeFileSync(path.join(dir, 'htpasswd'), HTPASSWD)
  writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n` +
      `http:\n  addr: 127.0.0.1:${port}\n${authBlock}`,
  )
  const child = spawn(REGISTRY_BINARY, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  const host = `127.0.0.1:${port}`
  const url = `http://${host}`
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    rmSync(dir, { recursive: true, force: true })
  }
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) })
      if (r.status === 200 || r.status === 401) break
    } catch {}
    if (i > 100 || child.exitCode !== null) {
      await stop()
      throw new Error(`docker-registry did not start on ${host}: ${stderr}`)
    }
    await sleep(100)
  }
  const authorization = auth ? `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` : undefined
  return { host, url, dir, stop, client: new Client(url, authorization) }
}

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** A minimal OCI distribution client: push blobs and manifests, read manifests and tags. */
export class Client {
  constructor(url, authorization) {
    this.url = url
    this.headers = authorization ? { authorization } : {}
  }

  async request(method, pathname, { body, headers = {} } = {}) {
    const target = pathname.startsWith('http') ? pathname : `${this.url}${pathname}`
    return fetch(target, {
      method,
      body,
      headers: { ...this.headers, ...headers },
      redirect: 'follow',
      signal: AbortSignal.timeout(15000),
    })
  }

  async pushBlob(repo, bytes) {
    const digest = sha256(bytes)
    const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`)
    if (start.status !== 202) throw new Error(`POST upload ${repo}: ${start.status}`)
    const location = new URL(start.headers.get('location'), this.url)
    location.searchParams.set('digest', digest)
    const put = await this.request('PUT', location.toString(), {
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    })
    if (put.status !== 201) throw new Error(`PUT blob ${repo}: ${put.status} ${await put.text()}`)
    return { digest, size: bytes.length }
  }

  async pushManifest(repo, reference, document) {
    const bytes = Buffer.from(JSON.stringify(document))
    const r = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      body: bytes,
      headers: { 'content-type': document.mediaType },
    })
    if (r.status !== 201) throw new Error(`PUT manifest ${repo}:${reference}: ${r.status} ${await r.text()}`)
    return { digest: sha256(bytes), size: bytes.length, mediaType: document.mediaType }
  }

  /** Pushes a one-layer image (layer of `layerBytes` random bytes); returns its descriptor. */
  async pushImage(repo, { architecture = 'amd64', layerBytes = 1024 } = {}) {
    const config = await this.pushBlob(
      repo,
      Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') })),
    )
    const layer = await this.pushBlob(repo, randomBytes(layerBytes))
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }
    const pushed = await this.pushManifest(repo, sha256(Buffer.from(JSON.stringify(manifest))), manifest)
    return { ...pushed, architecture, blobs: [config.digest, layer.digest] }
  }

  /** Pushes a multi-arch index over one image per architecture. */
  async pushIndex(repo, architectures, options = {}) {
    const children = []
    for (const architecture of architectures) children.push(await this.pushImage(repo, { ...options, architecture }))
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c) => ({
        mediaType: c.mediaType,
        digest: c.digest,
        size: c.size,
        platform: { architecture: c.architecture, os: 'linux' },
      })),
    }
    const pushed = await this.pushManifest(repo, sha256(Buffer.from(JSON.stringify(index))), index)
    return { ...pushed, children }
  }

  /** The manifest document under a tag or digest, or null. */
  async manifest(repo, reference) {
    const r = await this.request('GET', `/v2/${repo}/manifests/${reference}`, {
      headers: { accept: [OCI_INDEX, OCI_MANIFEST].join(', ') },
    })
    if (r.status === 404) return null
    if (r.status !== 200) throw new Error(`GET manifest ${repo}:${reference}: ${r.status}`)
    const bytes = Buffer.from(await r.arrayBuffer())
    return { digest: sha256(bytes), document: JSON.parse(bytes) }
  }

  async blobExists(repo, digest) {
    const r = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`)
    return r.status === 200
  }

  async tags(repo) {
    const r = await this.request('GET', `/v2/${repo}/tags/list`)
    if (r.status === 404) return []
    return ((await r.json()).tags ?? []).sort()
  }

  /** Throws unless `reference` is complete in `repo`: the manifest, every child and every blob. */
  async assertComplete(repo, reference) {
    const found = await this.manifest(repo, reference)
    if (!found) throw new Error(`${repo}:${reference} is missing`)
    const doc = found.document
    for (const child of doc.manifests ?? []) await this.assertComplete(repo, child.digest)
    for (const blob of [doc.config, ...(doc.layers ?? [])].filter(Boolean)) {
      if (!(await this.blobExists(repo, blob.digest))) throw new Error(`${repo}@${found.digest}: blob ${blob.digest} missing`)
    }
    return found.digest
  }
}

/** A loopback HTTP proxy to `target` that holds every blob GET for `delayMs` (to abort midway). */
export async function startSlowProxy(target, delayMs) {
  const upstream = new URL(target)
  const server = http.createServer((req, res) => {
    const forward = () => {
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          res.writeHead(up.statusCode, up.headers)
          up.pipe(res)
        },
      )
      out.on('error', () => res.destroy())
      req.pipe(out)
    }
    if (req.method === 'GET' && req.url.includes('/blobs/')) setTimeout(forward, delayMs)
    else forward()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${server.address().port}`
  return {
    host,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }),
  }
}

/** A Docker config directory with credentials for `host`. */
export function dockerConfig(host, user = USER, password = PASSWORD) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cip-node-docker-'))
  const auth = Buffer.from(`${user}:${password}`).toString('base64')
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }))
  return dir
}
