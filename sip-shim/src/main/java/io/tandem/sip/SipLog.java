package io.tandem.sip;

import java.util.Locale;
import java.util.Properties;

import javax.sip.SipStack;

import gov.nist.core.LogLevels;
import gov.nist.core.ServerLogger;
import gov.nist.core.StackLogger;
import gov.nist.javax.sip.message.SIPMessage;

/**
 * jain-sip's loggers, without log4j: errors and warnings to standard error, nothing per message (jain-sip asks
 * {@link #isLoggingEnabled(int)} before it builds a debug line, so the hot path formats nothing).
 */
public final class SipLog implements StackLogger
{
    @Override
    public boolean isLoggingEnabled()
    {
        return false; // jain-sip asks this before building many a message: errors still come through logError
    }

    @Override
    public boolean isLoggingEnabled(final int level)
    {
        return level <= LogLevels.TRACE_WARN;
    }

    /** At most this much of one log line: jain-sip writes a bad datagram's every byte into its message. */
    static final int MAX_LINE = 300;

    static String shorten(final String line)
    {
        return line == null || line.length() <= MAX_LINE ? line :
            line.substring(0, MAX_LINE) + "... (" + line.length() + " characters)";
    }

    @Override
    public void logError(final String message)
    {
        System.err.println("tandem-sip: jain-sip: " + shorten(message));
    }

    @Override
    public void logError(final String message, final Exception ex)
    {
        if (ex instanceof InterruptedException)
        {
            return; // a stopped stack's event thread, which ShimStack ends by interrupting it: its end, not an error
        }
        System.err.println("tandem-sip: jain-sip: " + shorten(message) + ": " + shorten(String.valueOf(ex)));
    }

    @Override
    public void logFatalError(final String message)
    {
        logError(message);
    }

    @Override
    public void logException(final Throwable ex)
    {
        System.err.println("tandem-sip: jain-sip: " + shorten(String.valueOf(ex)));
    }

    @Override
    public void logWarning(final String message)
    {
        final String lower = message.toLowerCase(Locale.ROOT);
        if (!lower.contains("tls") && !lower.contains("keystore") && !lower.contains("truststore"))
        {
            System.err.println("tandem-sip: jain-sip warning: " + shorten(message)); // TLS is not configured: not news
        }
    }

    @Override
    public void logStackTrace()
    {
    }

    @Override
    public void logStackTrace(final int level)
    {
    }

    @Override
    public int getLineCount()
    {
        return 0;
    }

    @Override
    public void logDebug(final String message)
    {
    }

    @Override
    public void logDebug(final String message, final Exception ex)
    {
    }

    @Override
    public void logTrace(final String message)
    {
    }

    @Override
    public void logInfo(final String message)
    {
    }

    @Override
    public void disableLogging()
    {
    }

    @Override
    public void enableLogging()
    {
    }

    @Override
    public void setBuildTimeStamp(final String stamp)
    {
    }

    @Override
    public void setStackProperties(final Properties properties)
    {
    }

    @Override
    public String getLoggerName()
    {
        return "tandem-sip";
    }

    /** jain-sip's per-message log: off. */
    public static final class Messages implements ServerLogger
    {
        @Override
        public void closeLogFile()
        {
        }

        @Override
        public void logMessage(final SIPMessage message, final String from, final String to, final boolean sender,
            final long time)
        {
        }

        @Override
        public void logMessage(final SIPMessage message, final String from, final String to, final String status,
            final boolean sender, final long time)
        {
        }

        @Override
        public void logMessage(final SIPMessage message, final String from, final String to, final String status,
            final boolean sender)
        {
        }

        @Override
        public void logException(final Exception ex)
        {
            System.err.println("tandem-sip: jain-sip: " + ex);
        }

        @Override
        public void setStackProperties(final Properties properties)
        {
        }

        @Override
        public void setSipStack(final SipStack stack)
        {
        }
    }
}
