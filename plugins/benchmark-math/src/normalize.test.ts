import { describe, expect, test } from 'bun:test';
import { canonicalNumber, fixFractions, fixSquareRoots, isEquivalentMath, normalizeMathAnswer } from './normalize';

describe('canonicalNumber', () => {
  test('commas, signs, leading and trailing zeros', () => {
    expect(canonicalNumber('1,234,567')).toBe('1234567');
    expect(canonicalNumber('1,000.50')).toBe('1000.5');
    expect(canonicalNumber('5.0')).toBe('5');
    expect(canonicalNumber('5.')).toBe('5');
    expect(canonicalNumber('+007')).toBe('7');
    expect(canonicalNumber('-0.0')).toBe('0');
    expect(canonicalNumber('-.5')).toBe('-0.5');
    expect(canonicalNumber('-12')).toBe('-12');
  });
  test('not plain numbers', () => {
    expect(canonicalNumber('1,23')).toBeUndefined();
    expect(canonicalNumber('1,2,3')).toBeUndefined();
    expect(canonicalNumber('.')).toBeUndefined();
    expect(canonicalNumber('2x')).toBeUndefined();
  });
});

describe('TeX fixes', () => {
  test('\\frac gets both arguments braced, as TeX reads them', () => {
    expect(fixFractions('\\frac12')).toBe('\\frac{1}{2}');
    expect(fixFractions('\\frac1{72}')).toBe('\\frac{1}{72}');
    expect(fixFractions('\\frac{72}1')).toBe('\\frac{72}{1}');
    expect(fixFractions('\\frac\\pi2+\\frac{\\frac12}3')).toBe('\\frac{\\pi}{2}+\\frac{\\frac{1}{2}}{3}');
  });
  test('\\sqrt takes one character or one command', () => {
    expect(fixSquareRoots('\\sqrt3')).toBe('\\sqrt{3}');
    expect(fixSquareRoots('2\\sqrt 3')).toBe('2\\sqrt{3}');
    expect(fixSquareRoots('\\sqrt\\pi')).toBe('\\sqrt{\\pi}');
    expect(fixSquareRoots('\\sqrt[3]{2}')).toBe('\\sqrt[3]{2}');
  });
});

describe('normalizeMathAnswer', () => {
  const same: [string, string][] = [
    ['\\dfrac{1}{2}', '\\frac{1}{2}'],
    ['\\tfrac34', '\\frac{3}{4}'],
    ['\\frac12', '\\frac{1}{2}'],
    ['1/2', '\\frac{1}{2}'],
    ['-1/2', '-\\frac{1}{2}'],
    ['\\frac{-1}{2}', '-\\frac{1}{2}'],
    // The reference maps the string "0.5" (and only it) to \frac{1}{2}.
    ['0.5', '\\frac{1}{2}'],
    ['.5', '\\frac{1}{2}'],
    ['\\boxed{\\frac{1}{2}}', '0.5'],
    ['10\\%', '10'],
    ['25%', '25'],
    ['\\$1,000.00', '1000'],
    ['1,000', '1000'],
    ['1\\,000', '1000'],
    ['1{,}000', '1000'],
    ['10\\!000', '10000'],
    ['5.0', '5'],
    ['5 \\text{ cm}', '5'],
    ['5\\text{cm}^2', '5'],
    ['12 square feet', '12'],
    ['18 dollars.', '18'],
    ['90^\\circ', '90'],
    ['90^{\\circ}', '90'],
    ['x = 5', '5'],
    ['\\left( 3, \\frac{\\pi}{2} \\right)', '(3,\\frac{\\pi}{2})'],
    ['\\sqrt3', '\\sqrt{3}'],
    ['$\\frac{3}{4}$', '\\frac{3}{4}'],
    ['\\text{(C)}', '(C)'],
    ['-3', '-3'],
    ['\\$18.90', '18.9'],
    ['y = 2x + 3', '2x+3'],
    ['\\[ 7 \\]', '7'],
  ];
  test.each(same)('%p normalises to %p', (input, expected) => {
    expect(normalizeMathAnswer(input)).toBe(normalizeMathAnswer(expected));
  });

  test('what the reference keeps apart stays apart', () => {
    // Only 0.5 becomes a fraction: 0.75 and 3/4 differ, as in Hendrycks' is_equiv.
    expect(isEquivalentMath('0.75', '\\frac{3}{4}')).toBe(false);
    // Fractions are not reduced.
    expect(isEquivalentMath('\\frac{2}{4}', '\\frac{1}{2}')).toBe(false);
    // A list is not a number with thousands commas.
    expect(normalizeMathAnswer('1, 2, 3')).toBe('1,2,3');
    expect(isEquivalentMath('-3', '3')).toBe(false);
    // A matrix's row break is not a TeX space.
    expect(isEquivalentMath('\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '\\begin{pmatrix} 12 \\end{pmatrix}')).toBe(false);
    expect(isEquivalentMath('\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}')).toBe(true);
    // A single letter after a number is algebra, not a unit.
    expect(normalizeMathAnswer('5 x')).toBe('5x');
  });

  test('equivalence compares normalised forms', () => {
    expect(isEquivalentMath('\\boxed{\\dfrac{\\sqrt{3}}{2}}', '\\frac{\\sqrt3}{2}')).toBe(true);
    expect(isEquivalentMath('\\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt{2}}{2}')).toBe(false);
  });
});
