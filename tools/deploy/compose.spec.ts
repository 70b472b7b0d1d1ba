import { composeFile, PINNED_IMAGE, read, workspaceApps, type ComposeService } from './deploy-files';

// The rules docker-compose.yml and docker-compose.dev.yml keep (docs/deployment.md). CI also
// validates every profile and override with `docker-compose config` (.ci/run).

const base = composeFile('docker-compose.yml');
const dev = composeFile('docker-compose.dev.yml');
const services = base.services;
const appServices = Object.entries(services).filter(([, s]) => s.build !== undefined || s.image?.startsWith('music-sync:'));
const stores = ['mongo', 'redis'];
const envOf = (s: ComposeService): Record<string, string> => s.environment ?? {};

describe('docker-compose.yml', () => {
  it('pins the stores by exact version and digest', () => {
    for (const name of stores) expect(services[name]?.image).toMatch(PINNED_IMAGE);
  });

  it('runs MongoDB as a single-node replica set that initiates itself, and the apps join it', () => {
    const mongo = services['mongo'] as ComposeService;
    expect(mongo.command).toEqual(expect.arrayContaining(['--replSet', 'rs0']));
    const check = (mongo.healthcheck?.test ?? []).join(' ');
    expect(check).toMatch(/rs\.initiate\(\{ _id: 'rs0', members: \[\{ _id: 0, host: 'mongo:27017' \}\] \}\)/);
    expect(check).toMatch(/isWritablePrimary/);
    expect(mongo.volumes).toEqual(expect.arrayContaining(['mongo-data:/data/db']));
    for (const [name, service] of appServices) {
      const url = envOf(service)['MONGO_URL'];
      if (url !== undefined) expect({ name, url }).toEqual({ name, url: 'mongodb://mongo:27017/?replicaSet=rs0' });
    }
  });

  it('runs Redis with its append-only file on a volume, never evicting keys', () => {
    const redis = services['redis'] as ComposeService;
    expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis.volumes).toEqual(expect.arrayContaining(['redis-data:/data']));
  });

  it('gives every long-running service a health check, and waits on health, not on start', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'demo') {
        expect(service.healthcheck?.disable).toBe(true);
        continue;
      }
      expect({ name, test: service.healthcheck?.test?.length ?? 0 }).toEqual({ name, test: expect.any(Number) });
      expect(service.healthcheck?.test?.length).toBeGreaterThan(0);
      for (const [dependency, how] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, condition: how.condition }).toEqual({ name, dependency, condition: 'service_healthy' });
      }
    }
    // The faker and the console open no store; the console is ready once the APIs it serves are.
    for (const [name, service] of appServices) {
      if (['music-faker', 'music-console', 'demo'].includes(name)) continue;
      expect({ name, dependsOn: Object.keys(service.depends_on ?? {}) }).toEqual({ name, dependsOn: expect.arrayContaining(stores) });
    }
    expect(Object.keys(services['music-console']?.depends_on ?? {}).sort()).toEqual(['music-auth', 'music-config', 'music-integration-api', 'music-inventory']);
  });

  it('runs every app of the workspace from the one image, on the port it publishes', () => {
    const commands = new Set<string>();
    for (const [name, service] of appServices) {
      if (name === 'demo') continue;
      expect(service.image).toBe('music-sync:${MUSIC_SYNC_TAG:-local}');
      const [app] = service.command ?? [];
      expect(workspaceApps()).toContain(app);
      commands.add(app as string);
      const port = envOf(service)['PORT'];
      expect(port).toMatch(/^\d+$/);
      for (const published of service.ports ?? []) expect(published.split(':').pop()).toBe(port);
    }
    // A new app in apps/ needs a service here (and an entry in docs/deployment.md).
    expect([...commands].sort()).toEqual(workspaceApps());
  });

  it('lets the queue workers scale: no host port, no container name', () => {
    const workers = services['music-integration'] as ComposeService;
    expect(workers.ports).toBeUndefined();
    expect(envOf(workers)['RUN_WORKERS']).toBe('true');
    expect(envOf(services['music-integration-api'] as ComposeService)['RUN_WORKERS']).toBe('false');
    for (const [name, service] of Object.entries(services)) expect({ name, containerName: service.container_name }).toEqual({ name, containerName: undefined });
  });

  it('keeps the fake third party and the demo in the demo profile, the faker controls on there only', () => {
    const profiled = Object.entries(services).filter(([, s]) => s.profiles !== undefined);
    expect(Object.fromEntries(profiled.map(([name, s]) => [name, s.profiles]))).toEqual({ 'music-faker': ['demo'], demo: ['demo'] });
    expect(envOf(services['music-faker'] as ComposeService)['FAKER_CONTROL_ENDPOINTS']).toBe('true');
    for (const [name, service] of appServices) {
      if (name !== 'music-faker') expect({ name, controls: envOf(service)['FAKER_CONTROL_ENDPOINTS'] }).toEqual({ name, controls: undefined });
    }
    expect(services['demo']?.command).toEqual(['node', 'dist/scripts/demo.js']);
  });

  it('runs the apps in production mode, with the production keys required from outside', () => {
    for (const [name, service] of appServices) {
      if (name === 'demo') continue;
      expect({ name, env: envOf(service)['NODE_ENV'] }).toEqual({ name, env: 'production' });
    }
    for (const key of ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS', 'SECRETS_KEYS']) expect(read('docker-compose.yml')).toMatch(new RegExp(`${key}: \\$\\{${key}:\\?`));
  });
});

describe('docker-compose.dev.yml', () => {
  it('publishes the stores on loopback where `npm start` looks for them', () => {
    expect(dev.services['mongo']?.ports).toEqual(['127.0.0.1:27017:27017']);
    expect(dev.services['redis']?.ports).toEqual(['127.0.0.1:6379:6379']);
    // scripts/stack.sh reuses a store on 27017 with directConnection (the member is mongo:27017).
    expect(read('scripts/stack.sh')).toContain('MONGO_URL="mongodb://127.0.0.1:$STORE_PORT/?directConnection=true"');
  });

  it("sets the queue dashboard's login, with a password the app accepts (12+ characters)", () => {
    const env = envOf(dev.services['music-integration-api'] as ComposeService);
    expect(env['ADMIN_USER']).toMatch(/^\$\{ADMIN_USER:-.+\}$/);
    const password = /^\$\{ADMIN_PASSWORD:-(.+)\}$/.exec(env['ADMIN_PASSWORD'] ?? '')?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(12);
  });
});
