import { describe, expect, test } from 'bun:test';
import { afterAnswerPhrase, afterHashes, extractFinalAnswer, lastBoxed, lastNumber, numbersIn } from './extract';

describe('lastBoxed', () => {
  test('takes the last box and matches nested braces', () => {
    expect(lastBoxed('first \\boxed{1}, then \\boxed{\\frac{\\sqrt{3}}{2}} at last')).toBe('\\frac{\\sqrt{3}}{2}');
    expect(lastBoxed('$\\boxed{\\left\\{ 1, 2 \\right\\}}$')).toBe('\\left\\{ 1, 2 \\right\\}');
    expect(lastBoxed('\\fbox{7}')).toBe('7');
  });
  test('reads the brace-less form up to the closing dollar', () => {
    expect(lastBoxed('so $\\boxed 5$ is it')).toBe('5');
  });
  test('a box that never closes, or none, gives nothing', () => {
    expect(lastBoxed('\\boxed{\\frac{1}{2}')).toBeUndefined();
    expect(lastBoxed('no box here')).toBeUndefined();
  });
});

describe('markers', () => {
  test('#### takes the rest of its line, the last one wins', () => {
    expect(afterHashes('work\n#### 12\nmore\n#### 1,200 dollars\n')).toBe('1,200 dollars');
    expect(afterHashes('####')).toBeUndefined();
  });
  test('"the answer is" stops at the end of the sentence, not at a decimal point', () => {
    expect(afterAnswerPhrase('So the answer is 3.5 hours. Next we check.')).toBe('3.5 hours');
    expect(afterAnswerPhrase('Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.')).toBe('\\frac{1}{2}');
    expect(afterAnswerPhrase('The answer is: 42')).toBe('42');
    expect(afterAnswerPhrase('No phrase here')).toBeUndefined();
  });
  test('numbers in prose: signs, thousands commas, decimals; a minus after a digit is subtraction', () => {
    expect(numbersIn('5-3 = 2, then -7 and 1,234.5 or .75 and x2')).toEqual(['5', '3', '2', '-7', '1,234.5', '.75']);
    expect(numbersIn('the list 1, 2, 3')).toEqual(['1', '2', '3']);
    expect(lastNumber('costs $18.')).toBe('18');
    expect(lastNumber('nothing')).toBeUndefined();
  });
});

describe('extractFinalAnswer', () => {
  test('order: boxed, then ####, then "the answer is", then the last number', () => {
    expect(extractFinalAnswer('#### 3 and \\boxed{4}')).toEqual({ answer: '4', method: 'boxed' });
    expect(extractFinalAnswer('The answer is 5.\n#### 6')).toEqual({ answer: '6', method: 'hashes' });
    expect(extractFinalAnswer('We get 7 then 8. The answer is 9. Check: 10')).toEqual({ answer: '9', method: 'answer-phrase' });
    expect(extractFinalAnswer('We get 7 then 8')).toEqual({ answer: '8', method: 'last-number' });
    expect(extractFinalAnswer('no digits at all')).toBeUndefined();
  });
  test('numeric mode (GSM8K) reads the marked fragment as a number', () => {
    expect(extractFinalAnswer('#### $1,234 total', { numeric: true })).toEqual({ answer: '1234', method: 'hashes' });
    expect(extractFinalAnswer('The answer is 18 dollars.', { numeric: true })).toEqual({ answer: '18', method: 'answer-phrase' });
    expect(extractFinalAnswer('The answer is 25%.', { numeric: true })).toEqual({ answer: '25', method: 'answer-phrase' });
    expect(extractFinalAnswer('#### -5', { numeric: true })).toEqual({ answer: '-5', method: 'hashes' });
    expect(extractFinalAnswer('#### 18 apples and 2 pears', { numeric: true })).toEqual({ answer: '18', method: 'hashes' });
    // A fraction is not the number its first digits spell.
    expect(extractFinalAnswer('\\boxed{\\frac{1}{2}}', { numeric: true })).toEqual({ answer: '\\frac{1}{2}', method: 'boxed' });
    expect(extractFinalAnswer('#### 5/2', { numeric: true })).toEqual({ answer: '5/2', method: 'hashes' });
    expect(extractFinalAnswer('#### 6 (that is 12/2)', { numeric: true })).toEqual({ answer: '6', method: 'hashes' });
    // A marker with no number falls through to the next method.
    expect(extractFinalAnswer('\\boxed{\\text{yes}} since 4 + 3 = 7', { numeric: true })).toEqual({ answer: '7', method: 'last-number' });
  });
});
