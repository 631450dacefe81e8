package io.tandem.media.relay;

/** How a stream learns its peer's real (possibly NATed) address, after rtpengine's endpoint learning. */
public enum LatchMode
{
    /** Never learn: media goes to the signalled address and only that source is accepted. */
    OFF,
    /** Latch on the first packet received after a signalling event, then lock. */
    IMMEDIATE,
    /** Keep re-latching on the latest source during the learning window, lock when it closes. */
    DELAYED,
    /** Like DELAYED, but a source equal to the signalled address wins over any other seen in the window. */
    HEURISTIC;

    public static LatchMode parse(final String value)
    {
        return switch (value.toLowerCase(java.util.Locale.ROOT))
        {
            case "off" -> OFF;
            case "immediate" -> IMMEDIATE;
            case "delayed" -> DELAYED;
            case "heuristic" -> HEURISTIC;
            default -> throw new IllegalArgumentException("unknown endpoint-learning mode: " + value);
        };
    }
}
