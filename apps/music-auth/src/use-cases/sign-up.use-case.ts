import bcrypt from 'bcrypt';
import { Result } from '@sapphire/result';
import type { User } from '@music/domain';
import { conflict, type AppError, type RateLimiter } from '@music/platform';
import type { UserRepository } from '@music/persistence';
import type { SignUpInput } from '../auth.schemas';
import { accountKey } from './account-key';

export interface SignUpDeps {
  users: UserRepository;
  bcryptCost: number;
  /** Sign-ups per email address (per client address is the route's, before the body is read). */
  perEmail: RateLimiter;
}

/** Registers a user: the password is stored only as a bcrypt hash; one account per email. */
export class SignUpUseCase {
  constructor(private readonly deps: SignUpDeps) {}

  async execute(input: SignUpInput): Promise<Result<User, AppError>> {
    const allowed = await this.deps.perEmail.consume(accountKey(input.email));
    if (allowed.isErr()) return Result.err(allowed.unwrapErr());
    const passwordHash = await bcrypt.hash(input.password, this.deps.bcryptCost);
    const user = await this.deps.users.create(input.email, passwordHash);
    return user ? Result.ok(user) : Result.err(conflict('An account with this email already exists'));
  }
}
