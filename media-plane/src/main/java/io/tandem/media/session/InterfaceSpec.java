package io.tandem.media.session;

/**
 * A named logical interface as configured: where its media sockets bind, the address announced to peers (a public
 * address in front of a NAT, say) and its port range. A call can bridge two of them, one per leg.
 *
 * @param name       e.g. {@code internal}, {@code external}; what the ng {@code direction} key names
 * @param bindAddress local address the sockets bind to
 * @param advertisedAddress address written into SDP for peers
 */
public record InterfaceSpec(String name, String bindAddress, String advertisedAddress, int portMin, int portMax)
{
    public static final String DEFAULT_NAME = "default";

    /**
     * Parse {@code NAME/ADDRESS[!ADVERTISED][/MIN-MAX]}, e.g. {@code external/10.0.0.5!203.0.113.5/30000-39999};
     * without a range the interface takes {@code defaultMin}-{@code defaultMax}.
     */
    public static InterfaceSpec parse(final String spec, final int defaultMin, final int defaultMax)
    {
        final String[] parts = spec.split("/", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isBlank() || parts[1].isBlank())
        {
            throw new IllegalArgumentException("an interface is NAME/ADDRESS[!ADVERTISED][/MIN-MAX]: " + spec);
        }
        final int bang = parts[1].indexOf('!');
        final String bind = bang < 0 ? parts[1] : parts[1].substring(0, bang);
        final String advertised = bang < 0 ? bind : parts[1].substring(bang + 1);
        int min = defaultMin;
        int max = defaultMax;
        if (parts.length == 3)
        {
            final String[] range = parts[2].split("-", -1);
            try
            {
                if (range.length != 2)
                {
                    throw new NumberFormatException();
                }
                min = Integer.parseInt(range[0]);
                max = Integer.parseInt(range[1]);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("bad port range in interface " + spec + ": expected MIN-MAX");
            }
        }
        if (bind.isBlank() || advertised.isBlank())
        {
            throw new IllegalArgumentException("an interface needs an address: " + spec);
        }
        return new InterfaceSpec(parts[0], bind, advertised, min, max);
    }

    @Override
    public String toString()
    {
        return name + "/" + bindAddress + (advertisedAddress.equals(bindAddress) ? "" : "!" + advertisedAddress) +
            "/" + portMin + "-" + portMax;
    }
}
