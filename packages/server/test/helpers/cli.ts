export * from '@vanish/testkit/cli';
