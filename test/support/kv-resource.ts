// A tiny resource over files of a temp dir, for engine tests: its fact kind is
// coalesced, its plan is a comparison, its apply a shell write.
import { sh } from '../../src/core/sh.ts'
import { predict, query, type FactKind } from '../../src/contract/fact.ts'
import { change, noChange, resource, type Handler, type Resource } from '../../src/contract/resource.ts'

export const kvFact: FactKind<string | null> = {
  name: 'test-kv',
  coalesce: true,
  script: (keys) => keys.map((k) => sh`if [ -f ${k} ]; then printf '%s\t%s\n' ${k} "$(cat ${k})"; else printf '%s\t\\001\n' ${k}; fi`).join('\n'),
  parse(stdout, keys) {
    const m = new Map<string, string | null>()
    for (const line of stdout.split('\n')) {
      const i = line.indexOf('\t')
      if (i < 0) continue
      const v = line.slice(i + 1)
      m.set(line.slice(0, i), v === '\u0001' ? null : v)
    }
    for (const k of keys) if (!m.has(k)) throw new Error(`no value for ${k}`)
    return m
  },
}

export function kv(path: string, value: string, meta: { notify?: Handler; tags?: string[]; predictNothing?: boolean } = {}): Resource {
  return resource({
    id: `kv:${path}`,
    type: 'kv',
    probe: { cur: query(kvFact, path) },
    plan: ({ cur }) =>
      cur === value
        ? noChange
        : change(cur === null ? `create = ${value}` : `${cur} -> ${value}`, async (ctx) => void (await ctx.run(sh`printf '%s' ${value} > ${path}`)), {
            ...(meta.predictNothing ? {} : { predicts: [predict(query(kvFact, path), value)] }),
          }),
    meta,
  })
}

/** Reads another key and fails to plan when it is absent: shows what check-mode predictions are for. */
export function needs(path: string, dependsOn: string, value: string): Resource {
  return resource({
    id: `needs:${path}`,
    type: 'kv',
    probe: { dep: query(kvFact, dependsOn), cur: query(kvFact, path) },
    plan: ({ dep, cur }) => {
      if (dep === null) throw new Error(`${dependsOn} does not exist`)
      return cur === value ? noChange : change(`write ${value}`, async (ctx) => void (await ctx.run(sh`printf '%s' ${value} > ${path}`)))
    },
  })
}

export function logHandler(name: string, logFile: string): Handler {
  return { kind: 'handler', name, run: async (ctx) => void (await ctx.run(sh`echo ${name} >> ${logFile}`)) }
}
