package io.tandem.sip;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.tandem.ng.NgClient;

/**
 * The media nodes behind the shim, driven over ng as Kamailio's rtpengine module drives them: a call's node is
 * chosen by its Call-ID's hash and kept for the call; when a node does not answer in time or answers that it is
 * out of capacity ("load limit", out of ports), the next one is tried. Any rtpengine-compatible node will do.
 */
final class MediaNodes implements AutoCloseable
{
    /** What Kamailio scripts usually ask for: Tandem's address in o= and c=, no ICE towards plain SIP endpoints. */
    private static final List<String> REPLACE = List.of("origin", "session-connection");

    /** A media node: its ng client, used by one thread at a time. */
    private record Node(InetSocketAddress address, NgClient client)
    {
    }

    /** What an offer brought: the SDP for the callee, and the index of the node that took the call. */
    record Offered(String sdp, int node)
    {
    }

    private final List<Node> nodes = new ArrayList<>();

    MediaNodes(final List<InetSocketAddress> addresses, final Duration timeout) throws IOException
    {
        for (final InetSocketAddress address : addresses)
        {
            nodes.add(new Node(address, new NgClient(address, timeout, 2)));
        }
    }

    boolean isEmpty()
    {
        return nodes.isEmpty();
    }

    /**
     * {@code offer}: the SDP the callee should see, from the first node of the call's order that takes it. The
     * caller keeps the node's index with the call (it may not be the first in the order) for the later commands, and
     * names it as {@code known} for a re-INVITE (-1: a new call, its order starting at its Call-ID's hash).
     */
    Offered offer(final int known, final String callId, final String fromTag, final String sdp) throws MediaException
    {
        final Map<String, Object> request = request("offer", callId, fromTag);
        request.put("sdp", sdp);
        final int first = known >= 0 && known < nodes.size() ? known : Math.floorMod(callId.hashCode(), nodes.size());
        MediaException last = null;
        for (int i = 0; i < nodes.size(); i++)
        {
            final int index = (first + i) % nodes.size();
            try
            {
                return new Offered(sdp(send(nodes.get(index), request)), index);
            }
            catch (final MediaException ex)
            {
                last = ex;
                if (!ex.tryNext)
                {
                    throw ex;
                }
            }
        }
        throw last;
    }

    /** {@code answer}: the SDP the caller should see, from the call's node (-1: unknown, by its hash). */
    String answer(final int node, final String callId, final String fromTag, final String toTag, final String sdp)
        throws MediaException
    {
        final Map<String, Object> request = request("answer", callId, fromTag);
        request.put("to-tag", toTag);
        request.put("sdp", sdp);
        return sdp(send(node(node, callId), request));
    }

    /** {@code delete} on the call's node (-1: by its hash): the call ends. Quiet when the node has no such call. */
    void delete(final int node, final String callId, final String fromTag)
    {
        final Node chosen = node(node, callId);
        try
        {
            send(chosen, request("delete", callId, fromTag));
        }
        catch (final MediaException ex)
        {
            // already gone (a BYE retransmitted past its transaction, a call deleted by its timeout): nothing to do
        }
    }

    /** The node of this index, or, for an index not in the list (-1: a call this shim knows nothing of), by hash. */
    private Node node(final int index, final String callId)
    {
        return nodes.get(index >= 0 && index < nodes.size() ? index : Math.floorMod(callId.hashCode(), nodes.size()));
    }

    private static Map<String, Object> request(final String command, final String callId, final String fromTag)
    {
        final Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", command);
        request.put("call-id", callId);
        request.put("from-tag", fromTag == null ? "" : fromTag);
        request.put("replace", REPLACE);
        request.put("ICE", "remove");
        return request;
    }

    private static Map<String, Object> send(final Node node, final Map<String, Object> request) throws MediaException
    {
        final Map<String, Object> reply;
        synchronized (node)
        {
            try
            {
                reply = node.client().send(request);
            }
            catch (final IOException ex)
            {
                throw new MediaException(node.address() + ": " + ex.getMessage(), true);
            }
        }
        if (reply == null)
        {
            throw new MediaException(node.address() + " did not answer", true);
        }
        final Object result = reply.get("result");
        if (!"ok".equals(String.valueOf(result)))
        {
            final String reason = String.valueOf(reply.get("error-reason"));
            final String lower = reason.toLowerCase(Locale.ROOT);
            throw new MediaException(node.address() + ": " + (result == null ? "no result" : result) + ": " + reason,
                "load limit".equals(String.valueOf(result)) || lower.contains("load limit") || lower.contains("ports"));
        }
        return reply;
    }

    private static String sdp(final Map<String, Object> reply) throws MediaException
    {
        final Object sdp = reply.get("sdp");
        if (sdp == null)
        {
            throw new MediaException("the media node's reply has no SDP", false);
        }
        return sdp instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : sdp.toString();
    }

    @Override
    public void close()
    {
        for (final Node node : nodes)
        {
            try
            {
                node.client().close();
            }
            catch (final IOException ignored)
            {
                // closing anyway
            }
        }
    }

    /** A media node could not take a call: {@code tryNext} when another node might. */
    static final class MediaException extends Exception
    {
        final boolean tryNext;

        MediaException(final String message, final boolean tryNext)
        {
            super(message);
            this.tryNext = tryNext;
        }
    }
}
