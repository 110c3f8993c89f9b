import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import { parseAllDocuments } from 'yaml'
import { Job } from 'kubernetes-models/batch/v1'
import { PersistentVolumeClaim, ServiceAccount } from 'kubernetes-models/v1'
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { muster } from '../../support/cli.ts'

/**
 * The recipes in examples/ that run muster's shards on a job engine are
 * checked against those engines' own schemas: Kubernetes' OpenAPI models
 * (kubernetes-models) and GitHub's workflow parser (@actions/workflow-parser),
 * then for what makes them correct as muster recipes.
 */

const read = (path: string): string => readFileSync(new URL(`../../../examples/${path}`, import.meta.url), 'utf8')

// kubernetes-models' classes validate against the API's JSON schemas
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount as never,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as never,
  'rbac.authorization.k8s.io/v1/Role': Role as never,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding as never,
  'batch/v1/Job': Job as never,
}

/** Parsed YAML, walked by the assertions below (the schemas above already typed-checked it). */
type Obj = Record<string, any>

describe('examples: sharded muster on Kubernetes and in a CI matrix', () => {
  describe('Kubernetes Indexed Job (examples/kubernetes/muster-shards.yaml)', () => {
    const docs = parseAllDocuments(read('kubernetes/muster-shards.yaml')).map((d) => {
      expect(d.errors, 'YAML errors').to.deep.equal([])
      return d.toJS() as Obj
    })
    const job = (name: string): Obj => docs.find((d) => d.kind === 'Job' && d.metadata.name === name)!

    it('every object is valid against the Kubernetes API schema', () => {
      for (const d of docs) {
        const Model = MODELS[`${d.apiVersion}/${d.kind}`]
        expect(Model, `${d.apiVersion} ${d.kind}`).to.not.equal(undefined)
        new Model(d as never).validate()
      }
    })
    it('the schema check can fail: a misspelled completionMode is refused', () => {
      const bad = structuredClone(job('muster-check-shards'))
      bad.spec.completionMode = 'Indexd'
      expect(() => new Job(bad).validate()).to.throw()
    })
    it('shards: Indexed, JOB_COMPLETION_INDEX as K of N = completions, retried per index, 64 never retried', () => {
      const spec = job('muster-check-shards').spec
      expect(spec.completionMode).to.equal('Indexed')
      expect(spec.backoffLimitPerIndex).to.be.a('number')
      expect(spec.template.spec.restartPolicy).to.equal('Never')
      const script = spec.template.spec.containers[0].args[0] as string
      expect(script).to.contain(`--shard "$JOB_COMPLETION_INDEX/${spec.completions}"`)
      expect(script).to.match(/--json > "\$out\.partial"/)
      const failIndex = spec.podFailurePolicy.rules.find((r: Obj) => r.action === 'FailIndex')
      expect(failIndex.onExitCodes.values).to.deep.equal([64])
    })
    it('the SSH key and the vault password come from Secrets, as files, never in env values or args', () => {
      const pod = job('muster-check-shards').spec.template.spec
      const secrets = pod.volumes.filter((v: Obj) => v.secret).map((v: Obj) => v.secret.secretName)
      expect(secrets).to.deep.equal(['muster-ssh', 'muster-vault'])
      const env = Object.fromEntries(pod.containers[0].env.map((e: Obj) => [e.name, e.value]))
      expect(env.MUSTER_VAULT_PASSWORD_FILE).to.equal('/run/secrets/muster-vault/password')
      expect(env).to.not.have.property('MUSTER_VAULT_PASSWORD')
    })
    it('the merge is the last step: it waits for the shard Job to end, then runs muster merge over every shard output', () => {
      const pod = job('muster-merge').spec.template.spec
      expect(pod.initContainers[0].args[0]).to.contain('kubectl get job muster-check-shards')
      expect(pod.containers[0].args[0]).to.equal('muster merge /results/shard-*.jsonl')
    })
  })

  describe('CI matrix workflow (examples/github-actions/muster-shards.yml)', () => {
    const content = read('github-actions/muster-shards.yml')
    const parse = async (text: string) => {
      const parsed = parseWorkflow({ name: 'muster-shards.yml', content: text }, new NoOperationTraceWriter())
      const template = parsed.value ? await convertWorkflowTemplate(parsed.context, parsed.value) : undefined
      return { errors: [...parsed.context.errors.getErrors().map((e) => e.message), ...(template?.errors ?? []).map((e) => e.Message)], template }
    }

    it('is a valid GitHub Actions workflow (GitHub\'s own parser and schema)', async () => {
      const { errors, template } = await parse(content)
      expect(errors).to.deep.equal([])
      expect(template?.jobs.map((j) => j.id.value)).to.deep.equal(['shard', 'merge'])
    })
    it('the schema check can fail: an unknown job key is refused', async () => {
      expect((await parse(content.replace('    runs-on: ubuntu-latest\n    timeout-minutes', '    runs-onn: ubuntu-latest\n    timeout-minutes'))).errors).to.not.deep.equal([])
    })
    it('a matrix of shards K/N, and a merge job that needs them and runs even when one failed', () => {
      const wf = parseAllDocuments(content)[0]!.toJS() as Obj
      expect(wf.jobs.shard.strategy.matrix.shard).to.deep.equal([0, 1, 2])
      expect(wf.jobs.shard.strategy['fail-fast']).to.equal(false)
      const run = wf.jobs.shard.steps.find((s: Obj) => String(s.run ?? '').includes('--shard')) as Obj
      expect(run.env.SHARD).to.equal('${{ matrix.shard }}/${{ strategy.job-total }}')
      expect(wf.jobs.merge.needs).to.equal('shard')
      expect(wf.jobs.merge.if).to.equal('${{ always() }}')
      expect(wf.jobs.merge.steps.at(-1).run).to.equal('npx muster merge shards/*.jsonl')
    })
  })

  it('the flags the recipes use exist: check --shard, merge', async () => {
    const check = await muster(['check', '--help'])
    expect(check.stdout).to.contain('--shard')
    const merge = await muster(['merge', '--help'])
    expect(merge.code).to.equal(0)
    expect(merge.stdout).to.contain('muster merge <files..>')
  })
})
