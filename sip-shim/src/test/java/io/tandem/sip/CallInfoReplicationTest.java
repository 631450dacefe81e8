package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;


/**
 * The shim's call info between the two nodes of a pair, over the real state journal (Aeron, an embedded driver
 * each, loopback as the private link): what the active learns of 500 calls the standby holds, changes and ends
 * included; a standby that joins late gets it by snapshot; expiry forgets a call on both; the promoted standby
 * writes and its old peer, back as standby, follows it.
 */
class CallInfoReplicationTest
{
    private static final String A = "127.0.0.1:40710";
    private static final String B = "127.0.0.1:40720";

    @TempDir
    Path dir;

    private final AtomicLong wallClock = new AtomicLong(1_796_000_000_000L);
    private CallInfoStore active;
    private CallInfoStore standby;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(active, standby);
    }

    private CallInfoStore node(final String name, final String listen, final String peer, final boolean startActive)
    {
        return new CallInfoStore(JournaledShims.journal(dir, name, listen, peer, startActive), wallClock::get);
    }

    /** Call-IDs as phones and PBXs make them: a UUID at a host, or a hex run at an address. */
    private static String callId(final int i)
    {
        return i % 2 == 0 ? new UUID(0x5ca1_ab1e_0000_0000L + i, i * 31L) + "@pbx-" + (i % 7) + ".example.com" :
            Integer.toHexString(0x3c26700f + i) + "-ltl4mbitp2vv@10.20.30." + (i % 250);
    }

    private CallInfo call(final int i)
    {
        return new CallInfo(callId(i), "as" + Integer.toHexString(i * 7919), null, "10.0.0." + (9 + i % 3) + ":5060;udp",
            i % 3, i % 2, CallInfo.State.INVITING, wallClock.get() + 300_000);
    }

    private static void await(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void theStandbyHoldsWhatTheActiveLearnsOfEveryCall() throws Exception
    {
        active = node("a", A, B, true);
        standby = node("b", B, A, false);
        await(standby::inSync, "the standby follows the journal");
        for (int i = 0; i < 500; i++)
        {
            active.put(call(i));
        }
        for (int i = 0; i < 500; i += 2)
        {
            active.update(callId(i), CallInfo.State.CONFIRMED, "to" + i, wallClock.get() + 43_200_000);
        }
        for (int i = 1; i < 500; i += 10)
        {
            active.update(callId(i), CallInfo.State.FAILED, "to" + i, wallClock.get() + CallProgress.LINGER_MS);
        }
        await(() -> standby.size() == 500 && standby.get(callId(491)).state() == CallInfo.State.FAILED,
            "the standby has every call's last change");
        for (int i = 0; i < 500; i++)
        {
            assertEquals(active.get(callId(i)), standby.get(callId(i)), "call " + i);
        }
        assertEquals(0, standby.refused());
        assertFalse(standby.active());
    }

    @Test
    void aStandbyThatJoinsLateGetsTheCallsBySnapshot() throws Exception
    {
        active = node("a", A, B, true);
        for (int i = 0; i < 300; i++)
        {
            active.put(call(i));
        }
        standby = node("b", B, A, false);
        await(() -> standby.inSync() && standby.size() == 300, "the late standby has the snapshot");
        assertEquals(active.get(callId(299)), standby.get(callId(299)));
    }

    @Test
    void aCallThatNeverEndsIsForgottenOnBothNodes() throws Exception
    {
        active = node("a", A, B, true);
        standby = node("b", B, A, false);
        await(standby::inSync, "the standby follows the journal");
        active.put(call(1));
        active.put(call(2).with(CallInfo.State.CONFIRMED, "t2", wallClock.get() + 43_200_000));
        await(() -> standby.size() == 2, "the standby has both calls");
        wallClock.addAndGet(300_001); // past the unanswered call's expiry, not the confirmed one's
        assertEquals(1, active.expire());
        assertNull(active.get(callId(1)));
        await(() -> standby.get(callId(1)) == null, "the expiry reached the standby");
        assertEquals(1, standby.size());
        assertEquals(1, active.expired());
    }

    @Test
    void aPromotedStandbyWritesAndItsOldPeerFollowsIt() throws Exception
    {
        active = node("a", A, B, true);
        standby = node("b", B, A, false);
        await(standby::inSync, "the standby follows the journal");
        active.put(call(1));
        await(() -> standby.get(callId(1)) != null, "the standby has the call");
        // keepalived moves the VIP: the old active is demoted (or dies), the standby is promoted
        active.demote();
        standby.promote();
        await(standby::active, "the standby is active");
        standby.update(callId(1), CallInfo.State.ENDED, null, wallClock.get() + CallProgress.LINGER_MS);
        standby.put(call(2));
        await(() -> active.get(callId(2)) != null && active.get(callId(1)).state() == CallInfo.State.ENDED,
            "the old active follows the new one");
        assertFalse(active.active());
        assertTrue(standby.journalCounter("tandem_journal_epoch") > 0);
    }
}
