package io.tandem.media.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sessions table hands out records a caller may keep: never a value Chronicle Map reuses for the next entry. */
class SessionStoreTest
{
    @TempDir
    Path dir;

    @Test
    void recordsOfEqualLengthStayDistinctAfterTheIterationThatReadThem()
    {
        final Map<String, byte[]> written = new HashMap<>();
        try (SessionStore store = new SessionStore(new File(dir.toFile(), "sessions.cm3"), 2000))
        {
            for (int i = 0; i < 1000; i++)
            {
                final String id = RestoreTest.callId(i);
                final byte[] record = ("record of " + id).getBytes(StandardCharsets.UTF_8); // all of one length
                store.put(id, record);
                written.put(id, record);
            }
            final Map<String, byte[]> read = new HashMap<>();
            for (final SessionStore.StoredCall call : store.calls())
            {
                read.put(call.callId(), call.record());
            }
            assertEquals(written.keySet(), read.keySet());
            for (final Map.Entry<String, byte[]> entry : written.entrySet())
            {
                assertArrayEquals(entry.getValue(), read.get(entry.getKey()), "record of " + entry.getKey());
            }
        }
    }

    /** The build ships Chronicle's off-heap class, so opening the file at start does not run the compiler. */
    @Test
    void chroniclesGeneratedClassComesFromTheBuildNotFromTheCompilerAtStart() throws Exception
    {
        for (final String type : ChronicleClassesAtBuild.VALUE_TYPES)
        {
            final Class<?> shipped = Class.forName(type + "$$Native");
            assertNotNull(shipped.getProtectionDomain().getCodeSource(), "a class compiled at run time has no code source");
            assertEquals(Class.forName(type).getClassLoader(), shipped.getClassLoader());
        }
    }

    /** Issue 17, item 9: one Tandem per sessions file; a second one stops at once with the reason. */
    @Test
    void aSecondStoreOnTheSameFileIsRefused()
    {
        final File file = new File(dir.toFile(), "locked.cm3");
        try (SessionStore first = new SessionStore(file, 100))
        {
            final IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new SessionStore(file, 100));
            assertEquals("sessions file " + file + " is in use by another Tandem (it holds " + file + ".lock)",
                refused.getMessage());
            first.put("still", new byte[] {1});
        }
        try (SessionStore again = new SessionStore(file, 100)) // closed: free again
        {
            assertEquals(1, again.size());
        }
    }

    /**
     * Issue 17, item 9: a sessions file someone else could have planted or could swap is refused with the reason: a
     * symbolic link (writes would go where it points), a directory every user may write (without the sticky bit),
     * a file another user owns.
     */
    @Test
    void aSessionsFileAnotherUserCouldPlantOrSwapIsRefused() throws Exception
    {
        final java.nio.file.Path target = dir.resolve("elsewhere.cm3");
        final java.nio.file.Path link = dir.resolve("linked.cm3");
        java.nio.file.Files.createSymbolicLink(link, target);
        final IllegalStateException linked = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
            () -> new SessionStore(link.toFile(), 100));
        assertTrue(linked.getMessage().contains("symbolic link"), linked.getMessage());
        assertTrue(!java.nio.file.Files.exists(target), "nothing written through the link");

        final java.nio.file.Path open = java.nio.file.Files.createDirectory(dir.resolve("open"));
        java.nio.file.Files.setAttribute(open, "unix:mode", 0777);
        final IllegalStateException everyone = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
            () -> new SessionStore(open.resolve("sessions.cm3").toFile(), 100));
        assertTrue(everyone.getMessage().contains("writable by every user"), everyone.getMessage());

        if (io.tandem.media.TestProcesses.root()) // giving a file away takes root (as CI runs)
        {
            final java.nio.file.Path planted = dir.resolve("planted.cm3");
            java.nio.file.Files.writeString(planted, "");
            java.nio.file.Files.setAttribute(planted, "unix:uid", 65534); // nobody
            final IllegalStateException foreign = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new SessionStore(planted.toFile(), 100));
            assertTrue(foreign.getMessage().contains("belongs to another user"), foreign.getMessage());
        }

        java.nio.file.Files.setAttribute(open, "unix:mode", 01777); // /dev/shm's mode: a directory of its own is fine
        new SessionStore(open.resolve("sessions.cm3").toFile(), 100).close();
    }
}
