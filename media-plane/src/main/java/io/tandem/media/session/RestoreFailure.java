package io.tandem.media.session;

/** Why a persisted call could not be restored at start; the label of {@code tandem_restore_failures_total}. */
enum RestoreFailure
{
    /** The record does not decode: truncated, damaged, or not a call record. */
    CORRUPT("corrupt"),
    /** The record was written by a newer Tandem, in a format this one does not read. */
    NEWER_FORMAT("newer_format"),
    /** It names a media interface this start is not configured with. */
    UNKNOWN_INTERFACE("unknown_interface"),
    /** It names a transcoder this start does not have. */
    UNKNOWN_TRANSCODER("unknown_transcoder"),
    /** One of its ports is outside the configured ranges, held by another call, or cannot be bound. */
    PORT_UNAVAILABLE("port_unavailable");

    private final String label;

    RestoreFailure(final String label)
    {
        this.label = label;
    }

    String label()
    {
        return label;
    }
}
