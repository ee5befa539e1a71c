// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { THEME_STORAGE_KEY } from '../lib/theme';
import ThemeToggle from './ThemeToggle.vue';

describe('ThemeToggle', () => {
  it('follows the system until a theme is picked, then stores it and marks <html>', async () => {
    const html = document.documentElement;
    const wrapper = mount(ThemeToggle);
    const pressed = () =>
      wrapper.findAll('[aria-pressed="true"]').map((b) => b.attributes('data-theme-choice'));
    expect(
      wrapper.findAll('[data-theme-choice]').map((b) => b.attributes('data-theme-choice')),
    ).toEqual(['system', 'light', 'dark']);
    expect(pressed()).toEqual(['system']);
    expect(html.hasAttribute('data-theme')).toBe(false);

    await wrapper.find('[data-theme-choice="dark"]').trigger('click');
    expect(pressed()).toEqual(['dark']);
    expect(html.getAttribute('data-theme')).toBe('dark');
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBe('dark');

    await wrapper.find('[data-theme-choice="light"]').trigger('click');
    expect(html.getAttribute('data-theme')).toBe('light');

    await wrapper.find('[data-theme-choice="system"]').trigger('click');
    expect(pressed()).toEqual(['system']);
    expect(html.hasAttribute('data-theme')).toBe(false);
    expect(localStorage.getItem(THEME_STORAGE_KEY)).toBeNull();
  });
});
