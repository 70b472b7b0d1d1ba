// Integration tests talk to the real store and Redis that scripts/test.sh started. Fail loudly
// when they are not configured rather than silently hitting a default.
if (!process.env['TEST_MONGO_URL']) {
  process.env['TEST_MONGO_URL'] = 'mongodb://127.0.0.1:27018/';
}
if (!process.env['TEST_REDIS_URL']) {
  process.env['TEST_REDIS_URL'] = 'redis://127.0.0.1:6379';
}
