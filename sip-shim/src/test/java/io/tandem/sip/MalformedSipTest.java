package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import javax.sip.message.Request;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Malformed SIP on the shim's port, hand-written: a 400 naming the fault where one can go back, otherwise dropped;
 * counted either way; the proxy serves the next request as before.
 */
class MalformedSipTest
{
    private static final int SHIM = 25460;
    private SipShim shim;
    private DatagramSocket caller;
    private DatagramSocket nextHop;

    @BeforeEach
    void setUp() throws Exception
    {
        caller = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        caller.setSoTimeout(700);
        nextHop = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        nextHop.setSoTimeout(2_000);
        shim = new SipShim(new SipContext().listen("127.0.0.1:" + SHIM).route("127.0.0.1:" + nextHop.getLocalPort())
            .conclude());
    }

    @AfterEach
    void tearDown()
    {
        shim.close();
        caller.close();
        nextHop.close();
    }

    private String request(final String method, final String uri, final String branch, final String extra)
    {
        return method + " " + uri + " SIP/2.0\r\n" +
            "Via: SIP/2.0/UDP 127.0.0.1:" + caller.getLocalPort() + ";branch=z9hG4bK-" + branch + "\r\n" +
            "From: <sip:caller@example.net>;tag=f1\r\nCall-ID: " + branch + "@example.net\r\n" +
            "CSeq: 1 " + method + "\r\n" + extra + "Content-Length: 0\r\n\r\n";
    }

    /**
     * Send a datagram to the shim. @return the first line of its reply, or null if none came. A retransmission of an
     * earlier request's final response (an INVITE's 483 waits for an ACK this test never sends) is not the reply.
     */
    private String send(final String message) throws Exception
    {
        final byte[] bytes = message.getBytes(StandardCharsets.ISO_8859_1);
        caller.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress("127.0.0.1", SHIM)));
        final String callId = message.lines().filter((l) -> l.startsWith("Call-ID:")).findFirst().orElse("");
        final byte[] buffer = new byte[65535];
        final DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
        try
        {
            while (true)
            {
                caller.receive(reply);
                final String text = new String(buffer, 0, reply.getLength(), StandardCharsets.ISO_8859_1);
                if (callId.isEmpty() || text.contains(callId))
                {
                    return text.split("\r\n")[0];
                }
            }
        }
        catch (final SocketTimeoutException ex)
        {
            return null;
        }
    }

    private void stillServes(final String branch) throws Exception
    {
        final long before = shim.relayed(Request.OPTIONS);
        send(request("OPTIONS", "sip:anyone@127.0.0.1:" + SHIM, branch, "To: <sip:anyone@example.net>\r\n" +
            "Max-Forwards: 70\r\n"));
        final byte[] buffer = new byte[65535];
        final DatagramPacket forwarded = new DatagramPacket(buffer, buffer.length);
        nextHop.receive(forwarded);
        assertTrue(new String(buffer, 0, forwarded.getLength(), StandardCharsets.ISO_8859_1).startsWith("OPTIONS "));
        assertEquals(before + 1, shim.relayed(Request.OPTIONS), "the proxy relays the next request as before");
    }

    @Test
    void garbageAndUnparsableMessagesAreDroppedAndTheProxyGoesOn() throws Exception
    {
        assertNull(send("\u0000\u0001 garbage, not SIP at all \r\n\r\n"));
        assertNull(send("INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK-x\r\n\r\n"),
            "no Call-ID, From, To or CSeq: nothing to answer by");
        assertNull(send("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:" + SHIM + ";branch=z9hG4bK-nobody\r\n" +
            "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
            "a stray response for this proxy itself");
        assertNull(send("INVITE sip:x@127.0.0.1 SIP/2.0\r\n" + "X-Filler: " + "y".repeat(60_000) + "\r\n\r\n"));
        stillServes("after-garbage");
    }

    @Test
    void requestsMissingWhatATransactionNeedsGet400WithTheReason() throws Exception
    {
        final String noContact = send(request("INVITE", "sip:callee@127.0.0.1:" + SHIM, "no-contact",
            "To: <sip:callee@example.net>\r\nMax-Forwards: 70\r\n"));
        assertEquals("SIP/2.0 400 Bad Request (Missing a required header : Contact)", noContact);
        final String badCseq = send(request("INVITE", "sip:callee@127.0.0.1:" + SHIM, "bad-cseq",
            "To: <sip:callee@example.net>\r\nContact: <sip:caller@127.0.0.1>\r\nMax-Forwards: 70\r\n")
            .replace("CSeq: 1 INVITE", "CSeq: one INVITE"));
        assertTrue(badCseq != null && badCseq.startsWith("SIP/2.0 400 "), badCseq);
        assertTrue(shim.malformed() >= 1);
        stillServes("after-400");
    }

    @Test
    void aRequestOutOfHopsGets483AndAnInDialogTelUriWithoutRouteGets416() throws Exception
    {
        assertEquals("SIP/2.0 483 Too many hops", send(request("INVITE", "sip:callee@127.0.0.1:" + SHIM, "hops",
            "To: <sip:callee@example.net>\r\nContact: <sip:caller@127.0.0.1>\r\nMax-Forwards: 0\r\n")));
        final String tel = send(request("BYE", "tel:+15551234", "tel", "To: <sip:callee@example.net>;tag=t9\r\n" +
            "Contact: <sip:caller@127.0.0.1>\r\nMax-Forwards: 70\r\n"));
        assertEquals("SIP/2.0 416 Unsupported URI Scheme", tel);
        assertEquals(1, shim.malformed());
        stillServes("after-416");
    }

    /**
     * A Call-ID longer than a call info record holds (1,024 bytes a field): the INVITE is relayed all the same, its
     * call info left out and counted (it threw after the media offer, and the INVITE never left).
     */
    @Test
    void anInviteWhoseCallIdIsTooLongForCallInfoIsRelayedWithoutIt() throws Exception
    {
        final String longId = "c".repeat(CallInfo.MAX_FIELD + 100);
        send(request("INVITE", "sip:callee@127.0.0.1:" + SHIM, longId, "To: <sip:callee@example.net>\r\n" +
            "Contact: <sip:caller@127.0.0.1>\r\nMax-Forwards: 70\r\n"));
        final byte[] buffer = new byte[65535];
        final DatagramPacket forwarded = new DatagramPacket(buffer, buffer.length);
        nextHop.receive(forwarded);
        assertTrue(new String(buffer, 0, forwarded.getLength(), StandardCharsets.ISO_8859_1).startsWith("INVITE "));
        assertEquals(0, shim.calls().size(), "no call info for it");
        assertEquals(1, shim.calls().unrecorded());
        assertEquals(0, shim.malformed());
    }
}
