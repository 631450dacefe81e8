package io.tandem.media.codec;

import java.nio.ByteBuffer;

/**
 * Per-stream payload hook invoked by the forwarding agent for each RTP packet. Implementations must
 * not allocate and must transform in place: the buffer holds one whole packet from position 0 to limit.
 * Load more implementations with {@link java.util.ServiceLoader} through {@link PayloadTransformerProvider}.
 */
public interface PayloadTransformer
{
    /**
     * @param packet   direct buffer holding the packet, position 0, limit = length.
     * @param headerLength length of the RTP header including CSRCs and extension.
     * @return true to forward the (possibly rewritten) packet, false to drop it.
     */
    boolean transform(ByteBuffer packet, int headerLength);

    PayloadTransformer NONE = (packet, headerLength) -> true;
}
