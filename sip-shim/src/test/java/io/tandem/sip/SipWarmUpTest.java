package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The shim's start-up warm-up: complete calls through a temporary proxy of its own, nothing of which stays; what else
 * reaches its parties' loopback ports is ignored. Inputs under SipWarmUpTestInputs/ run as regression tests in every
 * build; `JAZZER_FUZZ=1` fuzzes.
 */
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

    private static SipWarmUp.SipText parse(final String text)
    {
        return SipWarmUp.SipText.parse(ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void whatIsNotACallsMessageParsesToNothingOrToAnIncompleteOne()
    {
        assertNull(parse(""));
        assertNull(parse("\r\n\r\n"));
        assertNull(parse("\r\n"), "no line at all (found by the fuzz target)");
        assertNull(parse("garbage"));
        assertNull(parse("SIP/2.0 abc OK\r\nCall-ID: x\r\n\r\n"), "a status that is no number");
        assertNull(parse("\u0000\u00ff\u0013 \u0001"));
        assertFalse(parse("BYE sip:x SIP/2.0\r\n\r\n").complete(), "no headers");
        assertFalse(parse("SIP/2.0 200 OK\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nno colon here\r\n\r\n")
            .complete(), "no CSeq");
        final SipWarmUp.SipText ok = parse("SIP/2.0 200 OK\r\nfrom: a\r\nTO: b\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n" +
            "Via: v1\r\nVia: v2\r\n\r\nbody: not a header");
        assertTrue(ok.complete(), "header names in any case");
        assertEquals(200, ok.status());
        assertEquals(List.of("v1", "v2"), ok.all("via"));
        assertNull(ok.first("body"), "the body is not read as headers");
    }

    @FuzzTest(maxDuration = "30s")
    void anyDatagramParsesOrIsRefusedWithoutAnException(final FuzzedDataProvider data)
    {
        final SipWarmUp.SipText text = SipWarmUp.SipText.parse(ByteBuffer.wrap(data.consumeRemainingAsBytes()));
        if (text != null && text.complete())
        {
            text.first("Call-ID").length();
            text.all("Record-Route").size();
        }
    }
}
