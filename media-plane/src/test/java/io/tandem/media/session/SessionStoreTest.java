package io.tandem.media.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

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
}
