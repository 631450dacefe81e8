package io.tandem.media.relay;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * What the forwarding agent reports when one of a call's sockets learns or latches onto a party's source: values
 * only, made on the agent's thread and read on any other, so nothing of the relay's endpoints crosses the hand-over.
 *
 * @param callHandle the call the socket belongs to (as the session layer handed it over)
 * @param address the local address the socket is bound to, or null when bound to the wildcard
 * @param port the socket's local port
 * @param rtcp whether it is the stream's RTCP socket
 * @param source where the party's packets come from, and where its media now goes
 */
public record LatchReport(long callHandle, InetAddress address, int port, boolean rtcp, InetSocketAddress source)
{
}
