package io.tandem.media.control;

import java.net.InetAddress;

/** An address block such as {@code 127.0.0.0/8} or {@code ::1/128}, for the ng control socket's access list. */
public record Cidr(byte[] network, int prefix)
{
    public static Cidr parse(final String text)
    {
        final int slash = text.indexOf('/');
        final InetAddress address;
        try
        {
            address = InetAddress.ofLiteral(slash < 0 ? text : text.substring(0, slash));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("not an address block (ADDRESS/PREFIX): " + text);
        }
        final int bits = address.getAddress().length * 8;
        final int prefix;
        try
        {
            prefix = slash < 0 ? bits : Integer.parseInt(text.substring(slash + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("bad prefix length in " + text);
        }
        if (prefix < 0 || prefix > bits)
        {
            throw new IllegalArgumentException("prefix length out of range in " + text);
        }
        return new Cidr(address.getAddress(), prefix);
    }

    public boolean contains(final InetAddress address)
    {
        final byte[] bytes = address.getAddress();
        if (bytes.length != network.length)
        {
            return false;
        }
        int remaining = prefix;
        for (int i = 0; i < bytes.length && remaining > 0; i++, remaining -= 8)
        {
            final int mask = remaining >= 8 ? 0xFF : (0xFF << (8 - remaining)) & 0xFF;
            if ((bytes[i] & mask) != (network[i] & mask))
            {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString()
    {
        try
        {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
