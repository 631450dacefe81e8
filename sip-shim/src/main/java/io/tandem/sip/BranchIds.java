package io.tandem.sip;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;

/**
 * The Via branch the shim adds to a request it forwards, computed from the transaction's key (From tag, Call-ID,
 * CSeq number, Request-URI, the incoming top Via's branch), never from a counter, a random number or the node: a
 * CANCEL, or the ACK for an error response, that reaches the other node after a failover gets exactly the branch
 * the first node gave the INVITE, as the next hop requires to match them (RFC 3261 9.1, 17.1.1.3).
 */
final class BranchIds
{
    static final String MAGIC_COOKIE = "z9hG4bK";
    /** One digest per jain-sip thread: looking SHA-256 up among the security providers on every request showed. */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() ->
    {
        try
        {
            return MessageDigest.getInstance("SHA-256");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("SHA-256 is part of every JDK", ex);
        }
    });

    private BranchIds()
    {
    }

    /** The branch of a request's first attempt. */
    static String of(final Request request)
    {
        return of(request, 0);
    }

    /**
     * The branch of a request sent to the {@code attempt}-th destination of its rule (0: the first): another client
     * transaction for each, and still the same on either node for the same attempt.
     */
    static String of(final Request request, final int attempt)
    {
        final ViaHeader via = (ViaHeader)request.getHeader(ViaHeader.NAME);
        final String key = String.join("\n",
            ((FromHeader)request.getHeader(FromHeader.NAME)).getTag(),
            ((CallIdHeader)request.getHeader(CallIdHeader.NAME)).getCallId(),
            Long.toString(((CSeqHeader)request.getHeader(CSeqHeader.NAME)).getSeqNumber()),
            request.getRequestURI().toString(),
            via == null ? "" : String.valueOf(via.getBranch())) + (attempt == 0 ? "" : "\n" + attempt);
        final byte[] digest = SHA256.get().digest(key.getBytes(StandardCharsets.UTF_8)); // digest() resets it
        return MAGIC_COOKIE + "-tdm-" + HexFormat.of().formatHex(digest, 0, 12);
    }
}
