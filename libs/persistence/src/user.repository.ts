import type { User } from '@music/domain';
import { newId } from '@music/domain';
import { toUser } from './mappers';
import { isDuplicateKey } from './duplicate-keys';
import type { Models, UserDoc } from './models';

/** Users. Emails arrive already normalized; the unique index on `email` makes them one account each. */
export class UserRepository {
  constructor(private readonly models: Pick<Models, 'users'>) {}

  /** Creates a user; null when the email is already registered (also under a concurrent sign-up). */
  async create(email: string, passwordHash: string, now = new Date()): Promise<User | null> {
    const doc: UserDoc = { _id: newId(), email, passwordHash, createdAt: now };
    try {
      await this.models.users.create(doc);
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
    return toUser(doc);
  }

  /** Replaces a password hash (a rehash at a higher cost), unless it changed meanwhile. */
  async replacePasswordHash(id: string, previous: string, next: string): Promise<void> {
    await this.models.users.updateOne({ _id: id, passwordHash: previous }, { $set: { passwordHash: next } });
  }

  /** For the sign-in use-case only: the user with the stored hash it checks the password against. */
  async findByEmail(email: string): Promise<{ user: User; passwordHash: string } | null> {
    const doc = await this.models.users.findOne({ email }).lean<UserDoc>();
    return doc ? { user: toUser(doc), passwordHash: doc.passwordHash } : null;
  }
}
