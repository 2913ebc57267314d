import { createMigratedDatabase } from './helpers/db.js';
import { withDatabase } from '../src/db/client.js';

test.each(['sqlite', 'postgresql'] as const)('a migrated %s database takes a Prisma write', async (provider) => {
  const db = await createMigratedDatabase(provider);
  try {
    const count = await withDatabase(db.config, async ({ prisma, queryLog }) => {
      const artist = await prisma.artist.create({ data: { name: 'Björk' } });
      await prisma.track.create({ data: { title: 'Jóga', artistId: artist.id, fileSize: 123n } });
      expect(queryLog.count).toBeGreaterThan(0);
      return prisma.track.count();
    });
    expect(count).toBe(1);
  } finally {
    await db.drop();
  }
});
