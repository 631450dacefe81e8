package io.tandem.media.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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

    /**
     * Issue 17, item 6: recovery after a crash trusts the file's own header. Recovering with the header rewritten
     * from this start's settings corrupted the file when --max-calls had changed since it was made.
     */
    @ParameterizedTest
    @ValueSource(longs = {50, 2_000, 100_000})
    void recoveryAfterACrashWithAChangedMaxCallsKeepsEveryCall(final long maxCallsNow) throws Exception
    {
        final File file = new File(dir.toFile(), "changed-" + maxCallsNow + ".cm3");
        final Map<String, byte[]> written = new HashMap<>();
        try (SessionStore store = new SessionStore(file, 2_000))
        {
            for (int i = 0; i < 1_000; i++)
            {
                final String id = RestoreTest.callId(i);
                final byte[] record = ("record " + i + " of " + id).getBytes(StandardCharsets.UTF_8);
                store.put(id, record);
                written.put(id, record);
            }
        }
        Files.writeString(new File(file.getPath() + ".open").toPath(), "12345"); // as a killed process leaves it
        damageHeader(file); // the header's checksum fails: recovery must rebuild it as the file was made
        try (SessionStore recovered = new SessionStore(file, maxCallsNow))
        {
            assertEquals(written.size(), recovered.size());
            for (final Map.Entry<String, byte[]> entry : written.entrySet())
            {
                assertArrayEquals(entry.getValue(), recovered.get(entry.getKey()), "record of " + entry.getKey());
            }
            recovered.put("one-more", new byte[] {1});
        }
        try (SessionStore reopened = new SessionStore(file, maxCallsNow)) // and the file stays sound afterwards
        {
            assertEquals(written.size() + 1, reopened.size());
            assertEquals(0, reopened.recoveryDropped());
        }
        final SessionStore.Layout layout = SessionStore.Layout.read(new File(file.getPath() + ".settings"));
        assertEquals(maxCallsNow >= written.size() + 1 ? maxCallsNow : 2_000, layout.maxCalls(),
            "made anew for the new --max-calls when the calls fit it, else kept as it was");
    }

    /** A file from before layouts were kept beside it is made anew once, its calls kept, and its layout written. */
    @Test
    void aSessionsFileWithoutItsLayoutIsMadeAnewKeepingItsCalls() throws Exception
    {
        final File file = new File(dir.toFile(), "older.cm3");
        try (SessionStore store = new SessionStore(file, 500))
        {
            store.put(RestoreTest.callId(1), new byte[] {1, 2, 3});
        }
        Files.delete(new File(file.getPath() + ".settings").toPath());
        try (SessionStore store = new SessionStore(file, 800))
        {
            assertArrayEquals(new byte[] {1, 2, 3}, store.get(RestoreTest.callId(1)));
        }
        assertEquals(800, SessionStore.Layout.read(new File(file.getPath() + ".settings")).maxCalls());
    }

    /** Change one letter in the file's self-describing header (Chronicle's own text), so its checksum no longer holds. */
    private static void damageHeader(final File file) throws Exception
    {
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file, "rw"))
        {
            final byte[] head = new byte[4096];
            raf.readFully(head);
            final int at = new String(head, StandardCharsets.ISO_8859_1).indexOf("keyClass");
            assertTrue(at > 0, "the header describes the map");
            raf.seek(at);
            raf.write('K');
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
