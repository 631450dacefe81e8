package io.tandem.media.codec;

/** SPI: a named factory of {@link PayloadTransformer}s, found with {@link java.util.ServiceLoader}. */
public interface PayloadTransformerProvider
{
    /** @return the name used in configuration and the ng {@code codec} options, e.g. {@code "PCMU>PCMA"}. */
    String name();

    PayloadTransformer create();
}
