package io.tandem.sip;

import java.nio.charset.StandardCharsets;

import javax.sip.address.Hop;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.header.ContentTypeHeader;
import javax.sip.header.FromHeader;
import javax.sip.header.ToHeader;
import javax.sip.message.Message;
import javax.sip.message.Request;
import javax.sip.message.Response;

/**
 * What a call's messages mean beyond relaying them: its call info (the talk's {@code $sht(MyDlg=>$ci::...)}, kept
 * and, in an HA pair, replicated) follows the INVITE, its answer or error, a CANCEL and the BYE; its media node is
 * driven over ng ({@code offer}, {@code answer}, {@code delete}) on the node the call info names, so a call set up
 * through the other node of the pair, or on a node chosen after a retry, ends where its media is.
 */
final class CallProgress
{
    /** How long a failed, cancelled or ended call's info stays for its ACK and retransmissions (64 x T1). */
    static final long LINGER_MS = 32_000;

    private final SipContext ctx;
    private final CallInfoStore calls;
    private final MediaNodes media;

    CallProgress(final SipContext ctx, final CallInfoStore calls, final MediaNodes media)
    {
        this.ctx = ctx;
        this.calls = calls;
        this.media = media;
    }

    /**
     * A request about to be relayed statefully: an INVITE with SDP is offered to a media node (its SDP replaced by
     * the node's; a re-INVITE to the call's node first), a BYE deletes the media and ends the call info, an initial
     * INVITE's call info is kept with its destination.
     * @param destination where an initial INVITE goes, null for any other request
     * @return false when no media node took the call (the caller answers 503)
     */
    boolean onRequest(final Request forward, final Hop destination) throws Exception
    {
        final String callId = callId(forward);
        final String fromTag = fromTag(forward);
        int node = mediaNodeOf(callId);
        final String sdp = forward.getMethod().equals(Request.INVITE) && !media.isEmpty() ? sdp(forward) : null;
        if (sdp != null)
        {
            try
            {
                final MediaNodes.Offered offered = media.offer(node, callId, fromTag, sdp);
                replaceSdp(forward, offered.sdp());
                node = offered.node();
            }
            catch (final MediaNodes.MediaException ex)
            {
                System.err.println("tandem-sip: no media node took call " + callId + ": " + ex.getMessage());
                return false;
            }
        }
        if (destination != null)
        {
            calls.put(new CallInfo(callId, fromTag, null, Routes.text(destination), 0, node,
                CallInfo.State.INVITING, calls.now() + ctx.ringingExpiryMs()));
        }
        else if (Request.BYE.equals(forward.getMethod()))
        {
            if (!media.isEmpty())
            {
                media.delete(node, callId, fromTag);
            }
            calls.update(callId, CallInfo.State.ENDED, null, calls.now() + LINGER_MS);
        }
        return true;
    }

    /**
     * A reply to an INVITE: the call info follows it (a 2xx confirms the call, an error ends it after a linger for
     * its ACK); the media plane's part is {@code answer} for SDP in 18x or 2xx, {@code delete} on failure.
     */
    void onResponse(final Response forward) throws Exception
    {
        final CSeqHeader cseq = (CSeqHeader)forward.getHeader(CSeqHeader.NAME);
        if (!Request.INVITE.equals(cseq.getMethod()))
        {
            return;
        }
        final String callId = callId(forward);
        final String fromTag = fromTag(forward);
        final int status = forward.getStatusCode();
        final String toTag = ((ToHeader)forward.getHeader(ToHeader.NAME)).getTag();
        final int node = mediaNodeOf(callId);
        if (status >= 300)
        {
            calls.update(callId, CallInfo.State.FAILED, toTag, calls.now() + LINGER_MS);
        }
        else if (status >= 200)
        {
            calls.update(callId, CallInfo.State.CONFIRMED, toTag, calls.now() + ctx.callExpiryMs());
        }
        if (media.isEmpty())
        {
            return;
        }
        final String sdp = status > 100 && status < 300 ? sdp(forward) : null;
        if (status >= 300)
        {
            media.delete(node, callId, fromTag);
        }
        else if (sdp != null)
        {
            try
            {
                replaceSdp(forward, media.answer(node, callId, fromTag, toTag, sdp));
            }
            catch (final MediaNodes.MediaException ex)
            {
                System.err.println("tandem-sip: answer for call " + callId + " failed: " + ex.getMessage());
            }
        }
    }

    /** A CANCEL this proxy answered: the media goes from the call's node, the call info lingers for the 487's ACK. */
    void onCancel(final Request cancel)
    {
        final String callId = callId(cancel);
        if (!media.isEmpty())
        {
            media.delete(mediaNodeOf(callId), callId, fromTag(cancel));
        }
        calls.update(callId, CallInfo.State.FAILED, null, calls.now() + LINGER_MS);
    }

    /** The index of the call's media node, as the call info has it, or -1. */
    private int mediaNodeOf(final String callId)
    {
        final CallInfo info = calls.get(callId);
        return info == null ? -1 : info.mediaNode();
    }

    static String fromTag(final Message message)
    {
        return ((FromHeader)message.getHeader(FromHeader.NAME)).getTag();
    }

    static String callId(final Message message)
    {
        return ((CallIdHeader)message.getHeader(CallIdHeader.NAME)).getCallId();
    }

    /** The message's SDP body, or null. */
    static String sdp(final Message message)
    {
        final ContentTypeHeader type = (ContentTypeHeader)message.getHeader(ContentTypeHeader.NAME);
        final byte[] body = message.getRawContent();
        if (type == null || body == null || body.length == 0 || !"application".equalsIgnoreCase(type.getContentType()) ||
            !"sdp".equalsIgnoreCase(type.getContentSubType()))
        {
            return null;
        }
        return new String(body, StandardCharsets.UTF_8);
    }

    private static void replaceSdp(final Message message, final String sdp) throws Exception
    {
        message.setContent(sdp.getBytes(StandardCharsets.UTF_8),
            (ContentTypeHeader)message.getHeader(ContentTypeHeader.NAME));
    }
}
