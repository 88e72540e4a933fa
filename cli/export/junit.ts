// JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters): one <testcase> per check rule.
//
// The shape follows the de-facto JUnit report schema those tools read (testsuites > testsuite >
// testcase with <failure>, <skipped>, <system-out>; counts as attributes). A rule that failed with
// severity error is a <failure>; a warning is a pass with its message in <system-out> (a <failure>
// under --strict), and so is an inconclusive rule; off and not-applicable rules are <skipped>.
import type { CheckReport } from '../../reports/rules.js';

// XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF even when escaped.
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function xmlEscape(s: string): string {
  return s.replace(INVALID_XML, '\uFFFD').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function renderJUnit(c: CheckReport, opts: { strict?: boolean } = {}): string {
  const failing = (s: string) => s === 'fail' || (opts.strict === true && (s === 'warn' || s === 'inconclusive'));
  const failures = c.rules.filter((r) => failing(r.status)).length;
  const skipped = c.rules.filter((r) => r.status === 'off' || r.status === 'n/a').length;
  const counts = `tests="${c.rules.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0"`;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="luotrace check" ${counts}>`, `  <testsuite name="luotrace check" ${counts}>`, '    <properties>'];
  for (const f of c.files) out.push(`      <property name="file" value="${xmlEscape(f)}"/>`);
  out.push(`      <property name="kernelModel" value="${xmlEscape(c.kernelModel.id ?? 'unknown')}"/>`);
  out.push(`      <property name="incompleteInput" value="${c.dataQuality.incomplete}"/>`);
  out.push('    </properties>');
  for (const r of c.rules) {
    out.push(`    <testcase classname="luotrace.check.${r.kind}" name="${xmlEscape(r.id)}" time="0">`);
    const evidence = r.evidence.map((a) => `${a.file}:${a.line}`);
    const detail = [r.message, ...(r.measurements.filter((m) => !m.ok).map((m) => `${m.subject}: ${m.value} ns > limit ${m.limit} ns`)), ...(evidence.length ? ['evidence:', ...evidence] : [])].join('\n');
    if (failing(r.status)) {
      out.push(`      <failure message="${xmlEscape(r.message)}" type="${r.status === 'fail' ? 'error' : 'warning'}">${xmlEscape(detail)}</failure>`);
    } else if (r.status === 'off') {
      out.push('      <skipped message="rule is off"/>');
    } else if (r.status === 'n/a') {
      out.push(`      <skipped message="${xmlEscape(`not applicable: ${r.message}`)}"/>`);
    } else if (r.status === 'warn' || r.status === 'inconclusive') {
      out.push(`      <system-out>${xmlEscape(`${r.status === 'warn' ? 'warning' : 'inconclusive'}: ${detail}`)}</system-out>`);
    } else {
      out.push(`      <system-out>${xmlEscape(r.message)}</system-out>`);
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
