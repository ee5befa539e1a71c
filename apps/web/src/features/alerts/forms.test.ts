import { REDACTED } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { channelBody, channelDraft, checkChannel } from './channel-form';
import { serverErrors } from './form-errors';
import { checkRule, duration, RULE_FIELDS, ruleDraft, ruleSummary } from './rule-form';
import { seriesSections } from './series-options';
import { silenceBody } from './silence-form';
import { ruleOf } from './test-data';

describe('checkRule: the contract schema on the form', () => {
  it('gives the body of a valid form, numbers as numbers and hosts as a list', () => {
    const draft = {
      ...ruleDraft(),
      name: ' Busy CPU ',
      threshold: '1',
      forSeconds: '2',
      hosts: 'web-1, web-2 ,',
    };
    const checked = checkRule(draft);
    expect(checked).toEqual({
      ok: true,
      data: expect.objectContaining({
        name: 'Busy CPU',
        threshold: 1,
        forSeconds: 2,
        hosts: ['web-1', 'web-2'],
        recoveryThreshold: null,
      }),
    });
  });

  it('puts each message beside its field', () => {
    const checked = checkRule({
      ...ruleDraft(),
      name: '',
      threshold: 'lots',
      forSeconds: '1.5',
      series: 'cpu.nonsense',
    });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.errors.name).toBe('must not be empty');
    expect(checked.errors.threshold).toBe('must be a number');
    expect(checked.errors.forSeconds).toBe('must be a whole number of seconds');
    expect(checked.errors.series).toMatch(/^must be a series of the catalogue/);
    expect(
      Object.keys(checked.errors).every((f) => (RULE_FIELDS as readonly string[]).includes(f)),
    ).toBe(true);
  });

  it('round-trips a stored rule unchanged', () => {
    const rule = ruleOf({ hosts: ['a', 'b'], recoveryThreshold: 90 });
    const checked = checkRule(ruleDraft(rule));
    expect(checked.ok && checked.data).toMatchObject({
      hosts: ['a', 'b'],
      recoveryThreshold: 90,
      threshold: 95,
      forSeconds: 900,
    });
  });

  it('says what a rule does in one sentence', () => {
    expect(ruleSummary(ruleOf())).toBe('Alert when cpu.usagePercent >= 95 for 15 m on every host.');
    expect(ruleSummary(ruleOf({ builtin: 'host_down', series: '', forSeconds: 30 }))).toBe(
      'Alert when a host sends no snapshot for 30 s or more.',
    );
    expect([duration(90), duration(3600), duration(86_400)]).toEqual(['90 s', '1 h', '1 d']);
  });
});

describe('serverErrors: a 400 on the form', () => {
  it('puts each named field beside it and keeps the rest for the form', () => {
    const split = serverErrors(
      'threshold: must be a number; series: unknown; body: too large',
      RULE_FIELDS,
    );
    expect(split).toEqual({
      fields: { threshold: 'must be a number', series: 'unknown' },
      form: 'body: too large',
    });
    expect(serverErrors('rule not found', RULE_FIELDS)).toEqual({
      fields: {},
      form: 'rule not found',
    });
  });
});

describe('channel forms', () => {
  const stored = {
    id: 'ch-1',
    name: 'ops',
    kind: 'webhook' as const,
    enabled: true,
    minSeverity: 'warning' as const,
    config: { url: REDACTED, secret: REDACTED },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };

  it('never shows a stored secret, and sends it back as "•••" unless typed over', () => {
    const draft = channelDraft(stored);
    expect(draft.config).toEqual({});
    expect(draft.storedSecrets).toEqual(['url', 'secret']);
    const kept = checkChannel(draft);
    expect(kept.ok && kept.data.config).toEqual({ url: REDACTED, secret: REDACTED });

    const typed = checkChannel({ ...draft, config: { url: 'https://hooks.example/new' } });
    expect(typed.ok && typed.data.config).toEqual({
      url: 'https://hooks.example/new',
      secret: REDACTED,
    });
  });

  it('checks a typed secret like any field', () => {
    const checked = checkChannel({ ...channelDraft(stored), config: { url: 'not a url' } });
    expect(!checked.ok && checked.errors['config.url']).toBe('must be an http:// or https:// URL');
  });

  it('types each kind’s fields: numbers, lists, and optional ones left out when blank', () => {
    const draft = {
      ...channelDraft(),
      name: 'mail',
      kind: 'email' as const,
      config: {
        host: 'smtp.example',
        port: '587',
        secure: 'starttls',
        from: 'livestat@example.com',
        to: 'a@example.com, b@example.com',
        username: '',
      },
    };
    expect(channelBody(draft).send.config).toEqual({
      host: 'smtp.example',
      port: 587,
      secure: 'starttls',
      from: 'livestat@example.com',
      to: ['a@example.com', 'b@example.com'],
    });
    const missing = checkChannel({ ...draft, config: { ...draft.config, to: '', port: 'x' } });
    expect(missing.ok).toBe(false);
    if (missing.ok) return;
    expect(missing.errors['config.to']).toBe('must name at least one address');
    expect(missing.errors['config.port']).toBe('must be a port number');
  });
});

describe('silenceBody', () => {
  it('lasts the chosen minutes from now; blank rule or host is every', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    expect(silenceBody({ ruleId: 'r', host: '', minutes: 60, reason: '' }, now)).toEqual({
      ruleId: 'r',
      host: null,
      until: '2026-01-01T01:00:00.000Z',
      reason: '',
    });
  });
});

describe('rules on application series', () => {
  const app = {
    services: {
      worker: {
        metrics: {
          'queue.depth': { name: 'queue.depth', kind: 'gauge' as const, tags: {}, value: 17 },
          'calls;provider=openai': {
            name: 'calls',
            kind: 'counter' as const,
            tags: { provider: 'openai' },
            count: 3,
            rate: 6,
          },
        },
      },
    },
  };

  it('offers each field of each metric the host’s applications sent, and its family', () => {
    const sections = seriesSections([], '', app);
    const apps = sections.find((s) => s.name === 'Applications');
    expect(apps?.options.map((o) => o.path)).toEqual([
      'app.worker.queue.depth.value',
      'app.worker.calls;provider=openai.rate',
      'app.worker.calls;provider=openai.count',
    ]);
    const families = sections.find((s) => s.name.startsWith('Families'))?.options ?? [];
    expect(families.map((o) => o.path)).toContain('app.*.queue.depth.value');
    // Without an app message, nothing of the kind.
    expect(seriesSections([]).some((s) => s.name === 'Applications')).toBe(false);
  });

  it.each(['app.worker.queue.depth.value', 'app.*.queue.depth.value', 'app.worker.*.p99'])(
    'accepts %s',
    (series) => {
      expect(checkRule({ ...ruleDraft(), name: 'Deep', series }).ok).toBe(true);
    },
  );

  it('puts a bad application path beside the series field', () => {
    const checked = checkRule({
      ...ruleDraft(),
      name: 'Deep',
      series: 'app.worker.queue.depth.average',
    });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(Object.keys(checked.errors)).toEqual(['series']);
  });
});
