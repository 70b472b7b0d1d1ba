import bcrypt from 'bcrypt';
import { Result } from '@sapphire/result';
import type { User } from '@music/domain';
import { conflict, type AppError } from '@music/platform';
import type { UserRepository } from '@music/persistence';
import type { SignUpInput } from './auth.schemas';

/** Registers a user: the password is stored only as a bcrypt hash; one account per email. */
export class SignUpUseCase {
  constructor(
    private readonly users: UserRepository,
    private readonly bcryptCost: number,
  ) {}

  async execute(input: SignUpInput): Promise<Result<User, AppError>> {
    const passwordHash = await bcrypt.hash(input.password, this.bcryptCost);
    const user = await this.users.create(input.email, passwordHash);
    return user ? Result.ok(user) : Result.err(conflict('An account with this email already exists'));
  }
}
