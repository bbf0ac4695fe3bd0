"""A tiny X client for the host tests: a full-screen window with a known picture that records
the key presses and button clicks it receives, one line each, to the file named in argv[1]."""

import sys
import tkinter

out = open(sys.argv[1], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the window
root = tkinter.Tk()
root.geometry("1280x800+0+0")
root.overrideredirect(True)
canvas = tkinter.Canvas(root, width=1280, height=800, highlightthickness=0, bg="#ffffff")
canvas.pack()
canvas.create_rectangle(0, 0, 640, 400, fill="#d02020", width=0)
canvas.create_rectangle(640, 400, 1280, 800, fill="#2040c0", width=0)
canvas.create_text(320, 600, text="telework 職場PC", font=("TkDefaultFont", 40), fill="#000000")
root.bind("<KeyPress>", lambda e: out.write(f"key {e.keysym}\n"))
root.bind("<ButtonPress>", lambda e: out.write(f"button {e.num} {e.x} {e.y}\n"))
root.after(100, lambda: out.write("ready\n"))
root.mainloop()
