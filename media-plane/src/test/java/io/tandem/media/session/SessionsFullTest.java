package io.tandem.media.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 5: the sessions file is sized for --max-calls records of average size; calls with far longer
 * records (long Call-IDs, many streams) can fill it before the call limit. A call whose record cannot be written
 * never goes live: the offer is a clear error, counted, and leaves no call, port or socket behind.
 */
class SessionsFullTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietClose(plane);
    }

    @Test
    void aCallWhoseRecordDoesNotFitIsRefusedAndLeavesNothing() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir).maxCalls(4).portRange(27000, 27999));
        final String longTail = "y".repeat(20_000);
        final List<StreamSpec> streams = List.of(StreamSpec.of(new InetSocketAddress("127.0.0.1", 5000)),
            StreamSpec.of(new InetSocketAddress("127.0.0.1", 5002)));
        int accepted = 0;
        MediaException refused = null;
        for (int i = 0; i < 200 && refused == null; i++)
        {
            try
            {
                plane.registry().offer(i + "-" + longTail + "@pbx", "a", streams);
                accepted++;
            }
            catch (final MediaException ex)
            {
                refused = ex;
            }
        }
        assertTrue(refused != null, "the file filled up: " + accepted + " calls accepted");
        assertTrue(refused.getMessage().startsWith("Sessions file full"), refused.getMessage());
        assertEquals(accepted, plane.registry().callCount(), "the refused call is not live");
        assertEquals(accepted, plane.registry().storedCalls());
        assertEquals(1, plane.counters().sessionsFileFull.get());
        assertEquals(plane.registry().ports().capacity() - 4 * accepted, plane.registry().ports().available(),
            "the refused call's ports are free");
        assertEquals(4 * accepted * 2, plane.registry().publishedEndpoints(), "no socket of it with the relay");
    }
}
