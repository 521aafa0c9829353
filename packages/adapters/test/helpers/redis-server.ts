export * from '@vanish/testkit/redis-server';
