// Development-only key material, published in this repository on purpose: with it every app of a
// development stack, and every test, agrees on token keys and on the secrets key with zero setup.
// Production refuses to start with any of it (token-keys.ts, secret-box.ts); each app logs a
// warning when it uses it.

/** RSA-2048 private key (PKCS#8) music-auth signs development tokens with. */
export const DEVELOPMENT_JWT_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDKBv2zOsR7xTpM
YG4PLWEzwvmzB1449z4mKoUWVwc0Rzl77rUK10Hl6yUB39j/cwkrG528oHfpxsa1
rWUme5Jhij7j2B5XvgCgpDSdqrShIgeq/mUCKnUzCIuUNJpO14xWpw3i9Bxc82Ad
KhCEwMn3jfWrENBe5PG/qUulTHR29zo5ivAgAcDQQQ/89NfQps1YYOSRjMYGNHn/
squFckaF3bLJ33XYCpgzYPoTjo1LqMCq8sZMv+hXwHO1ebdhXYrpLwVMcjlygy83
3qx5uZdS1gVF5tS0flMu91amMvRmhVUu/xnw/0uPcoukoVQaX2w0++dtPyO1TrbF
aYv7s4ejAgMBAAECggEAAzCDu4X8qXeTqWEHBnZQ8orsJkds1WQR4chfZtrjjOUS
+JdBhHT24AphAIaS28rqeiPAJG+Oymy49mVRE3/Kmn+e6Tn1lgJfQCoCKqW8nvlK
kF3eel+b5L0Idxky1nZ7YLgtH/LP/9JX0h4NOgtRJPdjdC/vxOUYa/jgQ4Z8JY9P
yh4gGAmMDSxGnyng32r8G7rDQfybKqjA1bvLNPTydubleukwU4PEeGnP+COtz0nv
Audq5lIZD0y6NBLtYJ2k0Msz0rfIcBfo8tDPp0bmGMEIFOMHVkwkvYJ3Gag3Sxm1
3i1z9fPyYIN6d7otzTykkQRdcug9u7wWSPhVKknLAQKBgQDyGhir23vrJYs17LYe
Nj2RGfwVdimMJRSqZlIf96hKy251hQRzsBXKxZpxNr7oHQukxL+aaRJA6DOT2zn5
WkZyO7YJPHz0pIdjE9IDFlRjUY6a9e6MOgFR8GH1jczE+3RqcXXbJpqQYW2ua0k0
GQs3j31v09NrmWPGjSQKwiJzPQKBgQDVn/ZWiWUnI18jxOefjOupbYS6zD77YXlW
kksy9K3BX7TAx9LzIvwQWmgW5SVEHi6vJ+h/lT72Q+RBTcNXivYVGv5ws1rBiUdq
egwM/s4ZsvqsJaIf5ycjzfSRj1TLoOu6mme5/Thxf7RKnc2FGSLvSY1culJ9EEA2
Oe7fljIUXwKBgHvA0zOl8eX1Pv/FjCJNX5M4UR83U22L1tBzlS86DRCOhFwWLnxk
Wf9YmuWcMmG71yPWXoqzgt0i1JqTyUKo3rGtzBNUlBsJrxr6GrPxShmqqtaTN+j+
DYaw9aHrZeybDJsMfE4VoZSD+OjbdoPm+VDhTCFJihzKP7JSm0XUjn+RAoGBAJhj
zxe2VYlQ60qZ6V1g6q/nZ3rVvswWobdHDwvfjZ/XhRrMsUgumb+UrpI+jpIEMetT
PcDdl5eXoNmQ/puRjrBJnF6LI1/SbTagr74Jer7MdZOeGQRHIh2hiyjXJXdJaT+p
a/s6jywwHE3qOjULVGd8gbI3XCbJE/Va6HNpMnpjAoGBAKVYypVuCXFkLHTds93q
pTmS7HqQBBykuOFSWrZ5lCITK5aNQ2vsX8M9Y1F9aIjYOXPZNafB8LYh1S13UOtL
M1Uezm9eDsFyTNCLCZczrrG+uqJ5u/fggcqckS9wCy55Ka8CmyByTibx9YVErDo7
f2K/9952TzJUhufaKAg2gHvC
-----END PRIVATE KEY-----
`;

/** Its public half (SPKI), what the other apps verify development tokens with. */
export const DEVELOPMENT_JWT_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAygb9szrEe8U6TGBuDy1h
M8L5swdeOPc+JiqFFlcHNEc5e+61CtdB5eslAd/Y/3MJKxudvKB36cbGta1lJnuS
YYo+49geV74AoKQ0naq0oSIHqv5lAip1MwiLlDSaTteMVqcN4vQcXPNgHSoQhMDJ
9431qxDQXuTxv6lLpUx0dvc6OYrwIAHA0EEP/PTX0KbNWGDkkYzGBjR5/7KrhXJG
hd2yyd912AqYM2D6E46NS6jAqvLGTL/oV8BztXm3YV2K6S8FTHI5coMvN96sebmX
UtYFRebUtH5TLvdWpjL0ZoVVLv8Z8P9Lj3KLpKFUGl9sNPvnbT8jtU62xWmL+7OH
owIDAQAB
-----END PUBLIC KEY-----
`;

/** The development key of SECRETS_KEYS (AES-256, base64), under key id `dev`. */
export const DEVELOPMENT_SECRETS_KEYS = 'dev:5DDKK/8ZyRSyd6lcsoFCJtOUuyVsCDFAIhwjpDd0lh8=';
