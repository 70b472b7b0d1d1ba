import bcrypt from 'bcrypt';
import { Result } from '@sapphire/result';
import { AppError, signAccessToken, type TokenIssuing } from '@music/platform';
import type { UserRepository } from '@music/persistence';
import { MAX_PASSWORD_BYTES, type SignInInput } from './auth.schemas';
import { normalizeEmailAddress } from './email';

export interface AccessToken {
  token: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

export interface SignInSettings {
  issuing: TokenIssuing;
  bcryptCost: number;
}

// One message for an unknown email and a wrong password, so the answer does not reveal which.
const invalidCredentials = (): AppError => new AppError('UNAUTHORIZED', 'Invalid email or password');

/** Checks a user's password and issues an access token. */
export class SignInUseCase {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly users: UserRepository,
    private readonly settings: SignInSettings,
  ) {}

  async execute(input: SignInInput): Promise<Result<AccessToken, AppError>> {
    const email = normalizeEmailAddress(input.email);
    const found = email === null ? null : await this.users.findByEmail(email);
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
    if (bcrypt.getRounds(found.passwordHash) < this.settings.bcryptCost) {
      await this.users.replacePasswordHash(found.user.id, found.passwordHash, await bcrypt.hash(input.password, this.settings.bcryptCost));
    }
    const { token, expiresIn } = signAccessToken({ id: found.user.id, email: found.user.email }, this.settings.issuing);
    return Result.ok({ token, expiresIn, tokenType: 'Bearer' });
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash('dummy password for timing only', this.settings.bcryptCost);
    return this.dummyHash;
  }
}
