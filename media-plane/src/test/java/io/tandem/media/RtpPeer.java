package io.tandem.media;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** A test party on loopback that sends and receives RTP over a real UDP socket. */
final class RtpPeer implements AutoCloseable
{
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final DatagramSocket socket;
    private final int ssrc;

    RtpPeer(final int ssrc) throws IOException
    {
        this.ssrc = ssrc;
        socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
        socket.setSoTimeout(2000);
    }

    void timeout(final int millis) throws IOException
    {
        socket.setSoTimeout(millis);
    }

    InetSocketAddress address()
    {
        return (InetSocketAddress)socket.getLocalSocketAddress();
    }

    /** An RTP packet (version 2, PCMU) whose 160-byte payload is derived from the sequence number. */
    byte[] rtp(final int sequence)
    {
        final ByteBuffer packet = ByteBuffer.allocate(12 + 160);
        packet.put((byte)0x80).put((byte)0).putShort((short)sequence).putInt(sequence * 160).putInt(ssrc);
        for (int i = 0; i < 160; i++)
        {
            packet.put((byte)(sequence * 31 + i + ssrc));
        }
        return packet.array();
    }

    void send(final byte[] data, final InetSocketAddress to) throws IOException
    {
        socket.send(new DatagramPacket(data, data.length, to));
    }

    void send(final byte[] data, final int port) throws IOException
    {
        socket.send(new DatagramPacket(data, data.length, LOOPBACK, port));
    }

    /** @return the next datagram, or null if none arrives within the timeout. */
    DatagramPacket receive() throws IOException
    {
        final DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
        try
        {
            socket.receive(packet);
            return packet;
        }
        catch (final SocketTimeoutException ex)
        {
            return null;
        }
    }

    /** @return the next datagram, or null if none arrives within {@code millis}; the timeout is restored. */
    DatagramPacket receive(final int millis) throws IOException
    {
        final int saved = socket.getSoTimeout();
        socket.setSoTimeout(millis);
        try
        {
            return receive();
        }
        finally
        {
            socket.setSoTimeout(saved);
        }
    }

    static byte[] data(final DatagramPacket packet)
    {
        return Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
    }

    @Override
    public void close()
    {
        socket.close();
    }
}
