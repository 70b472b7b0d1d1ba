// tsyringe must find the Reflect metadata API when it is loaded, whoever imports it first.
import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';

// Composition roots (each app's container.ts) register their dependencies on a tsyringe container
// with factories: no decorators on the classes, no metadata needed at run time. A token carries the
// type of what it names, so registering and resolving are typed.

/** Names one dependency of type T in a container. */
export type Token<T> = symbol & { readonly __type?: T };

export function token<T>(name: string): Token<T> {
  return Symbol(name) as Token<T>;
}

/** A new container of the app's own (the root container is never written to). */
export function createContainer(): DependencyContainer {
  return rootContainer.createChildContainer();
}

/** Registers a value: what the process hands in (config, connections, logger) or a test's override. */
export function provideValue<T>(container: DependencyContainer, name: Token<T>, value: T): void {
  // tsyringe takes `useValue: undefined` for no provider at all: an optional dependency is a factory.
  if (value === undefined) throw new Error(`no value for ${name.description ?? 'a token'}`);
  container.register<T>(name, { useValue: value });
}

/** Registers a factory called once, on first resolve, with the container to resolve what it needs. */
export function provideFactory<T>(container: DependencyContainer, name: Token<T>, factory: (c: DependencyContainer) => T): void {
  container.register<T>(name, { useFactory: instanceCachingFactory<T>(factory) });
}

export function resolve<T>(container: DependencyContainer, name: Token<T>): T {
  return container.resolve<T>(name);
}
