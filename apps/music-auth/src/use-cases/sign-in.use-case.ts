import bcrypt from 'bcrypt';
import { Result } from '@sapphire/result';
import { AppError, signAccessToken, type TokenIssuing } from '@music/platform';
import type { UserRepository } from '@music/persistence';
import { MAX_PASSWORD_BYTES, type SignInInput } from '../auth.schemas';
import { normalizeEmailAddress } from '../email';
import type { SignInGuard } from '../sign-in-guard';
import { accountKey } from './account-key';

export interface AccessToken {
  token: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

export interface SignInCommand extends SignInInput {
  /** The client's address: failures are counted per (account, address) pair, and new addresses slowed per account. */
  address: string;
}

export interface SignInDeps {
  users: UserRepository;
  issuing: TokenIssuing;
  bcryptCost: number;
  guard: SignInGuard;
}

// One message for an unknown email and a wrong password, so the answer does not reveal which.
const invalidCredentials = (): AppError => new AppError('UNAUTHORIZED', 'Invalid email or password');

/** Checks a user's password (within the sign-in limits) and issues an access token. */
export class SignInUseCase {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: SignInDeps) {}

  async execute(command: SignInCommand): Promise<Result<AccessToken, AppError>> {
    const account = accountKey(command.email);
    const admitted = await this.deps.guard.admit(account, command.address);
    if (admitted.isErr()) return Result.err(admitted.unwrapErr());
    const result = await this.check(command);
    await (result.isOk() ? this.deps.guard.succeeded(account, command.address) : this.deps.guard.failed(account, command.address));
    return result;
  }

  private async check(input: SignInInput): Promise<Result<AccessToken, AppError>> {
    const email = normalizeEmailAddress(input.email);
    const found = email === null ? null : await this.deps.users.findByEmail(email);
    // Without a user, compare against a dummy hash of the same cost: the answer takes as long
    // whether or not the email is registered.
    const hash = found?.passwordHash ?? (await this.dummy());
    const matches = await bcrypt.compare(input.password, hash);
    // bcrypt ignores bytes past 72: a longer password never matches, even if its prefix does.
    if (!found || !matches || Buffer.byteLength(input.password, 'utf8') > MAX_PASSWORD_BYTES) {
      return Result.err(invalidCredentials());
    }
    // A hash made with a lower cost than today's (an older setting) is upgraded now, while the
    // password is at hand: raising BCRYPT_COST then reaches every account that signs in.
    if (bcrypt.getRounds(found.passwordHash) < this.deps.bcryptCost) {
      await this.deps.users.replacePasswordHash(found.user.id, found.passwordHash, await bcrypt.hash(input.password, this.deps.bcryptCost));
    }
    const { token, expiresIn } = signAccessToken({ id: found.user.id, email: found.user.email }, this.deps.issuing);
    return Result.ok({ token, expiresIn, tokenType: 'Bearer' });
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash('dummy password for timing only', this.deps.bcryptCost);
    return this.dummyHash;
  }
}
