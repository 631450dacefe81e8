package io.tandem.media.control;

import static io.tandem.media.control.NgServerTest.kamailio;
import static io.tandem.media.control.NgServerTest.sdp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ng commands on one call from several threads at once, as from Kamailio's many worker processes: an offer and
 * answer racing a delete must each see the call whole (before or after the delete, never between an offer's
 * steps), and when the dust settles no call, port or relay endpoint is left behind.
 */
class ConcurrentCommandsTest
{
    private static final int ROUNDS = 300;

    @TempDir
    Path dir;

    private MediaPlane plane;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietClose(plane);
    }

    @Test
    void offerAnswerAndDeleteRacingOnOneCallLeaveNothingBehind() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir).portRange(23000, 23999));
        final NgCommands commands = new NgCommands(plane.registry(), 0, plane.context().maxCalls(), 0);
        final ConcurrentLinkedQueue<String> internalErrors = new ConcurrentLinkedQueue<>();
        final CyclicBarrier start = new CyclicBarrier(2);
        final Thread signalling = new Thread(() ->
        {
            for (int i = 0; i < ROUNDS; i++)
            {
                await(start);
                final Map<String, Object> offer = kamailio("offer", "race-" + i, "a");
                offer.put("sdp", sdp(6000, "race"));
                check(commands.execute(offer), internalErrors);
                final Map<String, Object> answer = kamailio("answer", "race-" + i, "a");
                answer.put("to-tag", "b");
                answer.put("sdp", sdp(6002, "race"));
                answer.put("flags", List.of("transcode-PCMA"));
                check(commands.execute(answer), internalErrors);
            }
        }, "race-signalling");
        final Thread deleting = new Thread(() ->
        {
            for (int i = 0; i < ROUNDS; i++)
            {
                await(start);
                for (int attempt = 0; attempt < 3; attempt++)
                {
                    check(commands.execute(kamailio("delete", "race-" + i, "a")), internalErrors);
                }
            }
        }, "race-delete");
        signalling.start();
        deleting.start();
        signalling.join(TimeUnit.MINUTES.toMillis(2));
        deleting.join(TimeUnit.MINUTES.toMillis(2));
        assertFalse(signalling.isAlive() || deleting.isAlive(), "the racing threads did not finish");
        assertEquals(0, internalErrors.size(), "no command may fail for another's half-done work; the first: " +
            internalErrors.stream().limit(3).toList());

        for (final String callId : plane.registry().callIds()) // offers that came after their round's deletes
        {
            check(commands.execute(kamailio("delete", callId, "a")), internalErrors);
        }
        assertEquals(0, plane.registry().callCount());
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available(), "every port back");
        assertEquals(0, plane.registry().publishedEndpoints(), "every endpoint out of the relay");
        assertEquals(0, plane.registry().storedCalls(), "every record out of the sessions file");
        assertEquals(0, plane.counters().portsInUse.get());
    }

    private static void check(final Map<String, Object> reply, final ConcurrentLinkedQueue<String> internalErrors)
    {
        final Object reason = reply.get("error-reason");
        if (reason != null && !"Unknown call-id".equals(reason) && !"Unknown from-tag".equals(reason))
        {
            internalErrors.add(String.valueOf(reason));
        }
    }

    private static void await(final CyclicBarrier barrier)
    {
        try
        {
            barrier.await(30, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
