// @vitest-environment happy-dom
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PressureMetrics } from '@livestat/contracts';
import { EchartsStub } from '../../../test/echarts-stub';
import CpuPanel from './CpuPanel.vue';
import DiskPanel from './DiskPanel.vue';
import MemoryPanel from './MemoryPanel.vue';
import { pressureMeaning, pressureView } from './pressure';

const global = { stubs: { EChart: EchartsStub } };

// /proc/pressure as read on this machine (6.18): cpu has a `full` line of zeros.
const line = (avg10: number, avg60: number) => ({ avg10, avg60, avg300: 0, stallMsPerSec: 0 });
const PRESSURE: PressureMetrics = {
  available: true,
  cpu: { some: line(90.94, 77.36), full: line(0, 0) },
  memory: { some: line(0, 0), full: null },
  io: { some: line(0.24, 0.11), full: line(0, 0.005) },
};
const NO_PSI = 'PSI not available: /proc/pressure missing (kernel without CONFIG_PSI or psi=0)';

beforeEach(() => setActivePinia(createPinia()));

describe('pressureView', () => {
  it('shows some avg10 / avg60, and full where the kernel reports it', () => {
    expect(pressureView(PRESSURE, 'cpu')).toMatchObject({
      kind: 'line',
      text: 'some 90.94 / 77.36 % · full 0.00 / 0.00 %',
    });
    expect(pressureView(PRESSURE, 'memory').text).toBe('some 0.00 / 0.00 %');
    expect(pressureView(PRESSURE, 'io').text).toBe('some 0.24 / 0.11 % · full 0.00 / 0.01 %');
  });

  it('explains pressure for the resource in its tooltip', () => {
    expect(pressureView(PRESSURE, 'io').title).toBe(pressureMeaning('io'));
    expect(pressureMeaning('cpu')).toContain('waiting for a CPU');
    expect(pressureMeaning('memory')).toContain('waiting for memory');
  });

  it('says why there is no line: no PSI on the kernel, or no section from the agent', () => {
    expect(pressureView({ available: false, error: NO_PSI }, 'cpu')).toEqual({
      kind: 'note',
      text: `Pressure unavailable — ${NO_PSI}`,
      title: NO_PSI,
    });
    expect(pressureView(undefined, 'memory')).toMatchObject({
      kind: 'note',
      text: 'Pressure not reported by this host',
    });
  });
});

describe('the pressure line on the CPU, Memory and Disk panels', () => {
  const snapshot = makeExampleSnapshot();

  it('shows each panel its own resource, with the meaning on the label', () => {
    const cpu = mount(CpuPanel, { props: { cpu: snapshot.cpu, pressure: PRESSURE }, global });
    const memory = mount(MemoryPanel, {
      props: { memory: snapshot.memory, pressure: PRESSURE },
      global,
    });
    const disk = mount(DiskPanel, { props: { disk: snapshot.disk, pressure: PRESSURE }, global });
    for (const [wrapper, resource, text] of [
      [cpu, 'cpu', 'some 90.94 / 77.36 % · full 0.00 / 0.00 %'],
      [memory, 'memory', 'some 0.00 / 0.00 %'],
      [disk, 'io', 'some 0.24 / 0.11 % · full 0.00 / 0.01 %'],
    ] as const) {
      const shown = wrapper.find(`[data-pressure="${resource}"]`);
      expect(shown.attributes('data-testid')).toBe('pressure-line');
      expect(shown.find('.value').text()).toBe(text);
      expect(shown.find('abbr').attributes('title')).toBe(pressureMeaning(resource));
    }
  });

  it('hides the figures behind a short note where the host has no PSI', () => {
    const cpu = mount(CpuPanel, {
      props: { cpu: snapshot.cpu, pressure: { available: false, error: NO_PSI } },
      global,
    });
    const note = cpu.find('[data-pressure="cpu"]');
    expect(note.attributes('data-testid')).toBe('pressure-note');
    expect(note.text()).toBe(`Pressure unavailable — ${NO_PSI}`);
    const old = mount(MemoryPanel, { props: { memory: snapshot.memory }, global });
    expect(old.find('[data-pressure="memory"]').text()).toBe('Pressure not reported by this host');
  });

  it('shows nothing of pressure before the panel has data', () => {
    const cpu = mount(CpuPanel, { props: { pressure: PRESSURE }, global });
    expect(cpu.find('[data-pressure]').exists()).toBe(false);
  });
});
