"""Services people drive beside the stream (SAR review, ...): each over a store interface in
argus/stores/, each state change an event on a topic and a row in the audit trail."""
