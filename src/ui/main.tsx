/** The web UI's entry: the shell (navigation, token prompt, theme) and the views by path. */
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
