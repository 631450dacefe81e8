package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.sip.SipFactory;
import javax.sip.message.MessageFactory;
import javax.sip.message.Request;

import org.junit.jupiter.api.Test;

/**
 * The branch the shim adds depends only on the transaction's key, so the node that takes over after a failover
 * gives a CANCEL, or the ACK of an error response, exactly the branch the other node gave their INVITE.
 */
class BranchIdsTest
{
    private static final MessageFactory MESSAGES;

    static
    {
        try
        {
            final SipFactory factory = SipFactory.getInstance();
            factory.setPathName("gov.nist");
            MESSAGES = factory.createMessageFactory();
        }
        catch (final Exception ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private static Request request(final String method, final String cseqMethod, final String branch, final String toTag)
        throws Exception
    {
        return MESSAGES.createRequest(method + " sip:callee@10.0.0.100:5060 SIP/2.0\r\n" +
            "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=" + branch + "\r\n" +
            "From: <sip:caller@example.net>;tag=f-123\r\n" +
            "To: <sip:callee@example.net>" + (toTag == null ? "" : ";tag=" + toTag) + "\r\n" +
            "Call-ID: 3c2a7b9f4e5d6c1a@192.0.2.7\r\n" +
            "CSeq: 1 " + cseqMethod + "\r\n" +
            "Max-Forwards: 70\r\n" +
            "Content-Length: 0\r\n\r\n");
    }

    @Test
    void aCancelAndTheAckOfAnErrorGetTheBranchOfTheirInvite() throws Exception
    {
        final String invite = BranchIds.of(request("INVITE", "INVITE", "z9hG4bK-uac-1", null));
        assertTrue(invite.startsWith("z9hG4bK"), "an RFC 3261 branch: " + invite);
        assertEquals(invite, BranchIds.of(request("CANCEL", "CANCEL", "z9hG4bK-uac-1", null)), "RFC 3261 9.1");
        assertEquals(invite, BranchIds.of(request("ACK", "ACK", "z9hG4bK-uac-1", "t-9")), "RFC 3261 17.1.1.3");
        assertEquals(invite, BranchIds.of(request("INVITE", "INVITE", "z9hG4bK-uac-1", null)), "computed, not drawn");
    }

    @Test
    void anotherTransactionGetsAnotherBranch() throws Exception
    {
        final String invite = BranchIds.of(request("INVITE", "INVITE", "z9hG4bK-uac-1", null));
        assertNotEquals(invite, BranchIds.of(request("INVITE", "INVITE", "z9hG4bK-uac-2", null)), "a new client branch");
        assertNotEquals(invite, BranchIds.of(request("ACK", "ACK", "z9hG4bK-uac-3", "t-9")), "the ACK of a 2xx");
    }

    @Test
    void settingsAreCheckedBeforeAnythingStarts()
    {
        assertThrows(IllegalArgumentException.class, () -> new SipContext().conclude(), "no route");
        assertThrows(IllegalArgumentException.class, () -> new SipContext().route("host-without-port").conclude());
        assertThrows(IllegalArgumentException.class, () -> new SipContext().route("127.0.0.1:70000").conclude());
        assertEquals(5090, new SipContext().route("127.0.0.1:5090").conclude().routeTable().rules().get(0).destinations()
            .get(0).getPort());
    }
}
