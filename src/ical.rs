//! iCalendar parse and write (being written).
