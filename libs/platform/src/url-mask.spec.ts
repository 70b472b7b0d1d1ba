import { maskUrl, maskUrlsIn } from './url-mask';

describe('maskUrl', () => {
  it.each([
    ['https://user:pa55@api.example.com/music', 'https://***@api.example.com/music'],
    ['https://apikey@api.example.com/music', 'https://***@api.example.com/music'],
    ['https://api.example.com/music?api_key=abc123&page=2', 'https://api.example.com/music?api_key=***&page=2'],
    ['https://api.example.com/music?access_token=abc&sig=x&apiKey=y&password=z', 'https://api.example.com/music?access_token=***&sig=***&apiKey=***&password=***'],
    ['http://localhost:3003/sync?orgId=o1&token=t0ken', 'http://localhost:3003/sync?orgId=o1&token=***'],
  ])('masks %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it('leaves URLs without credentials exactly as they are, and non-URLs alone', () => {
    expect(maskUrl('https://api.example.com/music?page=2&limit=10')).toBe('https://api.example.com/music?page=2&limit=10');
    expect(maskUrl('HTTP://Example.com')).toBe('HTTP://Example.com');
    expect(maskUrl('not a url')).toBe('not a url');
  });
});

describe('maskUrlsIn', () => {
  it('masks every URL inside a text', () => {
    expect(maskUrlsIn('GET https://u:p@a.example/x?token=1 answered 500; then http://b.example/?key=2.')).toBe(
      'GET https://***@a.example/x?token=*** answered 500; then http://b.example/?key=***.',
    );
    expect(maskUrlsIn('no url here')).toBe('no url here');
  });
});
