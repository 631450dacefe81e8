package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/** The shim's start-up warm-up: complete calls through a temporary proxy of its own, nothing of which stays. */
class SipWarmUpTest
{
    @Test
    void everyCallOfTheWarmUpCompletesAndTheTemporaryProxyLeavesNoThreadBehind() throws Exception
    {
        final SipContext settings = new SipContext().route("127.0.0.1:5090").listenControl("none").conclude();
        new SipWarmUp(settings).run(20, TimeUnit.SECONDS.toNanos(20)); // jain-sip's static threads start once
        final Set<Thread> before = Thread.getAllStackTraces().keySet();

        final int calls = new SipWarmUp(settings).run(500, TimeUnit.SECONDS.toNanos(30));

        assertEquals(500, calls, "INVITE, 180, 200, ACK and BYE by the Record-Route, 200: each call complete");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Set<String> left;
        while (!(left = Thread.getAllStackTraces().keySet().stream().filter((t) -> !before.contains(t) && t.isAlive())
            .map(Thread::getName).collect(Collectors.toSet())).isEmpty() && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(50);
        }
        assertTrue(left.isEmpty(), "threads the warm-up's proxy left: " + left);
    }
}
