import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { countOrPercent, decimal, listOf, oneOf, wholeNumber } from '../../src/cli/options.js';
import { formatUsageError } from '../../src/cli/main.js';

const message = (parse: () => unknown) => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected the parser to throw');
};

describe('option parsers', () => {
  test('countOrPercent: a count, or a percentage from 0% to 100%', () => {
    const parse = countOrPercent({ min: 0 });
    expect(parse('10')).toEqual({ count: 10 });
    expect(parse('0')).toEqual({ count: 0 });
    expect(parse(' 5% ')).toEqual({ percent: 5 });
    expect(parse('0.5%')).toEqual({ percent: 0.5 });
    for (const bad of ['', '%', '-1', '1.5', '101%', 'ten', '5 %x']) {
      expect(() => parse(bad)).toThrow(`expected a whole number of at least 0 or a percentage from 0% to 100%, got "${bad}"`);
    }
  });

  test('wholeNumber: at least min, at most max; spaces around are fine', () => {
    expect(wholeNumber({ min: 1 })('20')).toBe(20);
    expect(wholeNumber({ min: 0 })('0')).toBe(0);
    expect(wholeNumber({ min: 1, max: 3600 })(' 30 ')).toBe(30);
    expect(message(() => wholeNumber({ min: 1 })('0'))).toBe('expected a whole number of at least 1, got "0"');
    expect(message(() => wholeNumber({ min: 1 })('1.5'))).toBe('expected a whole number of at least 1, got "1.5"');
    expect(message(() => wholeNumber({ min: 1 })('-3'))).toBe('expected a whole number of at least 1, got "-3"');
    expect(message(() => wholeNumber({ min: 1, max: 100 })('101'))).toBe('expected a whole number from 1 to 100, got "101"');
    expect(message(() => wholeNumber({ min: 1, max: 100 })('many'))).toBe('expected a whole number from 1 to 100, got "many"');
  });

  test('decimal: a finite number in range', () => {
    expect(decimal({ min: 0, max: 1 })('0.2')).toBe(0.2);
    expect(decimal({ min: 0, max: 10 })('1e0')).toBe(1);
    for (const bad of ['', ' ', 'high', 'NaN', 'Infinity', '1.01']) {
      expect(message(() => decimal({ min: 0, max: 1 })(bad))).toBe(`expected a number from 0 to 1, got "${bad}"`);
    }
  });

  test('oneOf: two choices read "a or b", more "one of a, b, c"', () => {
    expect(oneOf(['all', 'lru'])('lru')).toBe('lru');
    expect(message(() => oneOf(['all', 'lru'])('lfu'))).toBe('expected all or lru, got "lfu"');
    expect(message(() => oneOf(['small', 'medium', 'large'])('huge'))).toBe('expected one of small, medium, large, got "huge"');
  });

  test('listOf: comma-separated, case-insensitive, repeated options add up; the bad name is quoted', () => {
    const parse = listOf(['zipf', 'uniform', 'scan']);
    expect(parse('Zipf, scan', undefined)).toEqual(['zipf', 'scan']);
    expect(parse('uniform', ['zipf'])).toEqual(['zipf', 'uniform']);
    expect(message(() => parse('zipf,random', undefined))).toBe('expected one of zipf, uniform, scan, got "random"');
    expect(message(() => parse(' , ', undefined))).toBe('expected a comma-separated list of zipf, uniform, scan, got " , "');
  });
});

describe('usage errors', () => {
  /** What commander writes for `args` on a command with the given option, as the program prints it. */
  function usageError(args: string[]): string {
    let written = '';
    const command = new Command('demo')
      .exitOverride()
      .option('-o, --ops <n>', 'operations', wholeNumber({ min: 1 }))
      .configureOutput({ outputError: (text) => (written = formatUsageError(text, 'run soulspot demo --help for usage')) });
    expect(() => command.parse(args, { from: 'user' })).toThrow(CommanderError);
    return written;
  }

  test('a bad option value is one line: option, expected, got, what to do', () => {
    expect(usageError(['--ops', '0'])).toBe('soulspot: --ops: expected a whole number of at least 1, got "0" (run soulspot demo --help for usage)');
    expect(usageError(['-o', 'x'])).toBe('soulspot: --ops: expected a whole number of at least 1, got "x" (run soulspot demo --help for usage)');
  });

  test("commander's other errors, suggestions included, are one line too", () => {
    expect(usageError(['--opz', '3'])).toBe("soulspot: unknown option '--opz' (Did you mean --ops?) (run soulspot demo --help for usage)");
    expect(usageError(['--ops'])).toBe("soulspot: option '-o, --ops <n>' argument missing (run soulspot demo --help for usage)");
  });
});
