package io.tandem.media;

import io.tandem.media.session.StreamSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many call lifecycles (offer, answer, delete) leave nothing behind: no port, socket, table entry or session. */
class SoakTest
{
    private static final int LIFECYCLES = Integer.getInteger("tandem.soak.lifecycles", 100_000);
    private static final int CONCURRENT = 50;

    @TempDir
    Path dir;

    @Test
    void callLifecyclesLeakNothing() throws Exception
    {
        final InetSocketAddress alice = new InetSocketAddress("127.0.0.1", 6000);
        final InetSocketAddress bob = new InetSocketAddress("127.0.0.1", 6002);
        try (MediaPlane plane = new MediaPlane(TestContexts.media(dir)
            .portRange(26000, 26999)
            .maxCalls(1000)))
        {
            final int capacity = plane.registry().ports().capacity();
            final long openFilesBefore = openFiles();
            for (int i = 0; i < LIFECYCLES; i++)
            {
                final String callId = "soak-" + i;
                plane.registry().offer(callId, "from-" + i, List.of(StreamSpec.of(alice)));
                plane.registry().answer(callId, "from-" + i, "to-" + i, List.of(StreamSpec.of(bob)));
                if (i >= CONCURRENT)
                {
                    assertTrue(plane.registry().delete("soak-" + (i - CONCURRENT)));
                }
            }
            System.out.printf("soak: %d call lifecycles%n", LIFECYCLES);
            assertEquals(CONCURRENT, plane.registry().callCount());
            for (int i = LIFECYCLES - CONCURRENT; i < LIFECYCLES; i++)
            {
                assertTrue(plane.registry().delete("soak-" + i));
            }
            assertEquals(0, plane.registry().callCount());
            assertEquals(capacity, plane.registry().ports().available(), "ports");
            assertEquals(0, plane.registry().publishedEndpoints(), "endpoints known to the forwarding agent");
            assertEquals(0, plane.counters().sessions.get());
            assertEquals(0, plane.counters().portsInUse.get());
            assertEquals(0, plane.registry().storedCalls(), "entries in the sessions file");
            assertTrue(openFiles() <= openFilesBefore + 2, "file descriptors: " + openFilesBefore + " -> " + openFiles());
        }
    }

    private static long openFiles()
    {
        final String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }
}
